using System;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using DirectMail.Dns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DirectMail.Doctor;

/// <summary>
/// The doctor's outbound port 25 probe: a TCP connection to the first MX host of a probe domain, closed as soon as it
/// is open. It only connects; nothing is sent, not even EHLO or QUIT. <see cref="SenderDoctor"/> runs it for
/// <see cref="DoctorRequest.Port25ProbeDomain"/>; the DirectMail health check runs it on its own schedule.
/// </summary>
public static class Port25Probe
{
    /// <summary>The title of the check the probe gives.</summary>
    public const string Title = "Outbound port 25";

    /// <summary>Resolves <paramref name="probeDomain"/> and connects to its first MX host's first usable address.</summary>
    /// <param name="resolver">Finds the probe domain's MX hosts.</param>
    /// <param name="probeDomain">A domain that receives mail (a large mailbox provider's), already normalized.</param>
    /// <param name="port">The port to connect to: 25 (another only for tests and unusual setups).</param>
    /// <param name="timeout">How long the connection may take before port 25 is taken for blocked.</param>
    /// <param name="allowNonPublicAddress">True to connect to a loopback or private address too (tests; a private MX).</param>
    /// <param name="logger">Where to log (event ids 6002, 6003); null for none.</param>
    /// <param name="cancellationToken">Cancels the probe (thrown, not reported as a failure).</param>
    /// <returns><see cref="DoctorStatus.Pass"/> when the connection opened; <see cref="DoctorStatus.Fail"/> with the reason and the fix otherwise.</returns>
    public static async Task<DoctorCheck> ProbeAsync(IMxResolver resolver, string probeDomain, int port, TimeSpan timeout, bool allowNonPublicAddress, ILogger? logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentException.ThrowIfNullOrEmpty(probeDomain);
        var resolution = await resolver.ResolveAsync(probeDomain, cancellationToken).ConfigureAwait(false);
        if (!resolution.IsSuccess)
        {
            return new DoctorCheck(DoctorCheckIds.Port25, Title, DoctorStatus.Fail, $"The probe domain's mail servers could not be found: {resolution.Message}", "Give a probe domain that receives mail, such as a large mailbox provider's.");
        }

        return await ConnectAsync(resolution, port, timeout, allowNonPublicAddress, logger, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Connects to the first MX host's first usable address of a successful <paramref name="resolution"/>, and closes the connection.</summary>
    /// <param name="resolution">The probe domain's MX hosts (<see cref="MxResolution.IsSuccess"/>).</param>
    /// <param name="port">The port to connect to.</param>
    /// <param name="timeout">How long the connection may take before the port is taken for blocked.</param>
    /// <param name="allowNonPublicAddress">True to connect to a loopback or private address too.</param>
    /// <param name="logger">Where to log; null for none.</param>
    /// <param name="cancellationToken">Cancels the probe (thrown).</param>
    /// <returns>Pass when the connection opened; Fail otherwise (a timeout or a refusal: the port looks blocked; no usable address).</returns>
    public static async Task<DoctorCheck> ConnectAsync(MxResolution resolution, int port, TimeSpan timeout, bool allowNonPublicAddress, ILogger? logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resolution);
        if (!resolution.IsSuccess)
        {
            throw new ArgumentException("The probe needs the MX hosts of a resolved domain.", nameof(resolution));
        }

        logger ??= NullLogger.Instance;
        var probeDomain = resolution.Domain;
        var target = resolution.Targets[0];
        var address = target.Addresses.FirstOrDefault(a => a.IsPublic || allowNonPublicAddress);
        if (address is null)
        {
            return new DoctorCheck(DoctorCheckIds.Port25, Title, DoctorStatus.Fail, $"The first MX host of {probeDomain}, {target.Host}, has no public address ({string.Join(", ", target.Addresses)}); nothing was connected to.", "Give a probe domain whose MX hosts are on the Internet.");
        }

        DoctorLog.Probing(logger, target.Host, address.Address.ToString(), port);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var socket = new Socket(address.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        var watch = Stopwatch.StartNew();
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address.Address, port), deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            DoctorLog.ProbeFailed(logger, address.Address.ToString(), port, e);
            var why = e is SocketException s ? s.SocketErrorCode.ToString() : $"no answer within {timeout.TotalSeconds:0.#} s";
            return new DoctorCheck(DoctorCheckIds.Port25, Title, DoctorStatus.Fail, $"Could not connect to {target.Host} ({address.Address}) port {port}: {why}.", "Outbound port 25 looks blocked; many cloud and residential networks block it. Ask the provider to open it, or deliver through a relay that accepts mail on port 587.");
        }

        return new DoctorCheck(DoctorCheckIds.Port25, Title, DoctorStatus.Pass, $"Connected to {target.Host} ({address.Address}) port {port} in {watch.ElapsedMilliseconds} ms; nothing was sent.");
    }
}
