using System;
using System.Threading.Tasks;
using DirectMail.QueueCrashProbe;

// The process the queue's crash tests kill with SIGKILL (tests/DirectMail.Tests/Queue/Sqlite/SqliteCrashTests.cs and
// tests/DirectMail.Tests/Queue/Crash/QueueWorkerCrashTests.cs). Two modes:
//   enqueue DIRECTORY       enqueues into the SQLite store in DIRECTORY until killed (EnqueueProbe)
//   worker --store STORE …  runs a MailQueueWorker over STORE, delivering to the test servers (WorkerProbe)
return args switch
{
    ["enqueue", var directory] => await EnqueueProbe.RunAsync(directory),
    ["worker", .. var rest] => await WorkerProbe.RunAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: DirectMail.QueueCrashProbe enqueue DIRECTORY");
    Console.Error.WriteLine("       DirectMail.QueueCrashProbe worker " + WorkerProbe.Usage);
    return 2;
}
