using System;

namespace DirectMail.Delivery;

/// <summary>The limits of <see cref="SmtpConnectionPool"/>: how many sessions per address, and how long an idle one is kept and trusted.</summary>
/// <param name="MaxConnectionsPerHost">At most this many sessions open to one MX host, its name and address (one pool entry) (<see cref="DirectMailOptions.MaxConnectionsPerHost"/>).</param>
/// <param name="IdleTimeout">An idle session older than this is closed with QUIT (<see cref="DirectMailOptions.PooledConnectionIdleTimeout"/>).</param>
/// <param name="ProbeAfter">An idle session older than this is probed with NOOP before reuse (<see cref="DirectMailOptions.PooledConnectionProbeAfter"/>).</param>
/// <param name="ProbeTimeout">How long the NOOP probe waits, instead of the command timeout (<see cref="DirectMailOptions.PooledConnectionProbeTimeout"/>).</param>
internal sealed record SmtpPoolLimits(int MaxConnectionsPerHost, TimeSpan IdleTimeout, TimeSpan ProbeAfter, TimeSpan ProbeTimeout);
