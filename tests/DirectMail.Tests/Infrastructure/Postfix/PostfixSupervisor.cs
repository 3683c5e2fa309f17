namespace DirectMail.Tests.Infrastructure.Postfix;

/// <summary>
/// The supervisor of a private Postfix instance, shared by the tests' <c>PostfixFixture</c> and (linked) the benchmarks'
/// <c>PostfixDiscardSink</c>, so it holds no test-framework types.
/// </summary>
public static class PostfixSupervisor
{
    /// <summary>
    /// Runs <c>postfix start-fg</c> as a child and stops it (<c>postfix stop</c>) when its standard input closes:
    /// when the fixture is disposed, or when the test process dies, so no instance outlives a run. It is a child
    /// subreaper, so the Postfix daemons that outlive their master are reaped here rather than left as zombies
    /// under an init that may not reap them.
    /// </summary>
    public const string Script = """
        import ctypes, os, signal, subprocess, sys, threading, time

        config = sys.argv[1]
        PR_SET_CHILD_SUBREAPER = 36
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

        master = subprocess.Popen(["/usr/sbin/postfix", "-c", config, "start-fg"], stdin=subprocess.DEVNULL)
        closed = threading.Event()

        def wait_for_eof():
            sys.stdin.buffer.read()
            closed.set()

        threading.Thread(target=wait_for_eof, daemon=True).start()
        while not closed.is_set() and master.poll() is None:
            closed.wait(0.2)

        if master.poll() is None:
            try:
                subprocess.run(["/usr/sbin/postfix", "-c", config, "stop"], stdin=subprocess.DEVNULL, timeout=30)
                master.wait(timeout=20)
            except subprocess.TimeoutExpired:
                master.kill()
                master.wait()

        def children():
            me = str(os.getpid())
            found = []
            for pid in os.listdir("/proc"):
                if pid.isdigit():
                    try:
                        with open(f"/proc/{pid}/stat") as f:
                            if f.read().rsplit(")", 1)[1].split()[1] == me:
                                found.append(int(pid))
                    except (OSError, IndexError):
                        pass
            return found

        deadline = time.monotonic() + 10
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                if time.monotonic() > deadline:
                    for child in children():
                        try:
                            os.kill(child, signal.SIGKILL)
                        except OSError:
                            pass
                time.sleep(0.05)

        print(f"postfix start-fg exited with {master.returncode}", file=sys.stderr)
        sys.exit(0 if closed.is_set() else 1)

        """;
}
