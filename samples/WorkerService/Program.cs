// Generic Host + AddDirectMail: options from appsettings.json ("DirectMail" section), logs through the host's logging.
using WorkerService;

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddDirectMail();               // binds "DirectMail", validated at start
builder.Services.AddHostedService<DigestWorker>();
await builder.Build().RunAsync();
