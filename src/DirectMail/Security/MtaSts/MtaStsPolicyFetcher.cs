using System;
using System.Buffers;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Security.MtaSts;

/// <summary>
/// Fetches <c>https://mta-sts.&lt;domain&gt;/.well-known/mta-sts.txt</c> (RFC 8461 section 3.3): HTTPS only, redirects not
/// followed, a short timeout, at most <see cref="MaxPolicyBytes"/>, <c>Content-Type: text/plain</c>, the certificate
/// validated against <c>mta-sts.&lt;domain&gt;</c> by the platform's store plus the <see cref="TrustAnchors"/>. The host
/// name is resolved through the mailer's DNS (never the system resolver), and a non-public address is refused unless
/// private targets are allowed: a recipient's DNS must not make the mailer fetch from its own network.
/// </summary>
internal sealed class MtaStsPolicyFetcher : IDisposable
{
    /// <summary>The largest policy accepted: 64 KiB (real ones are a few hundred octets).</summary>
    public const int MaxPolicyBytes = 64 * 1024;

    private readonly HttpClient _client;
    private readonly TimeSpan _timeout;
    private readonly int _port;

    /// <param name="resolve">The addresses of a host name, through the mailer's DNS; throws <see cref="SocketException"/> when there are none.</param>
    /// <param name="allowPrivate">Allow loopback and private addresses (<see cref="Delivery.DirectMailOptions.AllowPrivateTargets"/>).</param>
    /// <param name="anchors">Trusted besides the platform's store.</param>
    /// <param name="timeout">The whole fetch's deadline (connect, TLS, request, body).</param>
    /// <param name="port">The HTTPS port: 443, as RFC 8461 says; tests change it.</param>
    public MtaStsPolicyFetcher(Func<string, CancellationToken, ValueTask<IPAddress[]>> resolve, bool allowPrivate, TrustAnchors anchors, TimeSpan timeout, int port = 443)
    {
        _timeout = timeout;
        _port = port;
        var handler = new SocketsHttpHandler
        {
            // RFC 8461 section 3.3: "HTTP 3xx redirects MUST NOT be followed".
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = timeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            MaxResponseHeadersLength = 16,
            ConnectCallback = new PolicyHostConnector(resolve, allowPrivate).ConnectAsync,
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                    certificate is System.Security.Cryptography.X509Certificates.X509Certificate2 leaf && anchors.Validate(leaf, chain, errors) == SslPolicyErrors.None,
            },
        };
        _client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The policy of <paramref name="domain"/>, or why there is none; never throws but for the caller's cancellation.</summary>
    public async Task<MtaStsFetchResult> FetchAsync(string domain, CancellationToken cancellationToken)
    {
        var host = "mta-sts." + domain;
        var uri = new Uri(_port == 443 ? $"https://{host}/.well-known/mta-sts.txt" : $"https://{host}:{_port}/.well-known/mta-sts.txt");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                var redirect = (int)response.StatusCode is >= 300 and < 400 ? " (a redirect, which is not followed)" : string.Empty;
                return MtaStsFetchResult.Failed(TlsFailureType.StsPolicyFetchError, $"{uri} answered {(int)response.StatusCode}{redirect}.");
            }

            if (!string.Equals(response.Content.Headers.ContentType?.MediaType, "text/plain", StringComparison.OrdinalIgnoreCase))
            {
                return MtaStsFetchResult.Failed(TlsFailureType.StsPolicyInvalid, $"{uri} is served as {response.Content.Headers.ContentType?.MediaType ?? "no media type"}, not text/plain.");
            }

            if (response.Content.Headers.ContentLength > MaxPolicyBytes)
            {
                return MtaStsFetchResult.Failed(TlsFailureType.StsPolicyInvalid, $"{uri} is {response.Content.Headers.ContentLength} octets; at most {MaxPolicyBytes} are read.");
            }

            var text = await ReadBoundedAsync(response.Content, deadline.Token).ConfigureAwait(false);
            if (text is null)
            {
                return MtaStsFetchResult.Failed(TlsFailureType.StsPolicyInvalid, $"{uri} is longer than {MaxPolicyBytes} octets.");
            }

            var policy = MtaStsPolicy.Parse(text, out var error);
            return policy is null ? MtaStsFetchResult.Failed(TlsFailureType.StsPolicyInvalid, $"{uri}: {error}") : new MtaStsFetchResult(policy, null, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return MtaStsFetchResult.Failed(TlsFailureType.StsPolicyFetchError, $"Fetching {uri} took longer than {_timeout}.");
        }
        catch (HttpRequestException e) when (FindInner<AuthenticationException>(e) is { } tls)
        {
            return MtaStsFetchResult.Failed(TlsFailureType.StsWebPkiInvalid, $"The certificate of {host} did not validate: {tls.Message}");
        }
        catch (HttpRequestException e)
        {
            return MtaStsFetchResult.Failed(TlsFailureType.StsPolicyFetchError, $"Fetching {uri} failed: {e.Message}");
        }
        catch (Exception e) when (e is IOException or SocketException or DecoderFallbackException)
        {
            return MtaStsFetchResult.Failed(TlsFailureType.StsPolicyFetchError, $"Fetching {uri} failed: {e.Message}");
        }
    }

    public void Dispose() => _client.Dispose();

    private static T? FindInner<T>(Exception e)
        where T : Exception
    {
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is T found)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>The body as UTF-8 text, or null when it has more than <see cref="MaxPolicyBytes"/> octets (whatever Content-Length said).</summary>
    private static async Task<string?> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxPolicyBytes + 1);
        try
        {
            using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var length = 0;
            while (length <= MaxPolicyBytes)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(length, MaxPolicyBytes + 1 - length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer, 0, length);
                }

                length += read;
            }

            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
