using System;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace DirectMail.Smtp.Auth;

/// <summary>
/// SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677) without channel binding (<c>n,,</c>): the password never
/// crosses the wire, and the exchange succeeds only when the server's signature proves it holds the same salted
/// password (a server that cannot prove it is an impostor, whatever it answers).
/// </summary>
internal sealed class SaslScram : SaslMechanism
{
    /// <summary>
    /// The most PBKDF2 iterations accepted from a server. Servers use 4096 (Cyrus, Dovecot) to some hundred
    /// thousand; a count far beyond would make the client burn CPU for seconds at a server's word.
    /// </summary>
    internal const int MaxIterations = 1_000_000;

    private const string Gs2Header = "n,,";
    private const string ChannelBinding = "c=biws"; // base64("n,,")

    private readonly SmtpAuthMechanism _mechanism;
    private readonly string _userName;
    private readonly string _password;
    private readonly string _clientNonce;
    private string? _clientFirstBare;
    private byte[]? _serverSignature;
    private int _step;
    private bool _verified;

    public SaslScram(SmtpAuthMechanism mechanism, string userName, string password, string? clientNonce = null)
    {
        _mechanism = mechanism;
        _userName = userName;
        _password = password;
        _clientNonce = clientNonce ?? NewNonce();
    }

    public override string Name => WireName(_mechanism);

    public override bool IsServerAuthenticated => _verified;

    private bool IsSha256 => _mechanism == SmtpAuthMechanism.ScramSha256;

    public override byte[] Respond(ReadOnlySpan<byte> challenge)
    {
        switch (_step++)
        {
            case 0:
                _clientFirstBare = "n=" + EscapeName(SaslPrep.Prepare(_userName)) + ",r=" + _clientNonce;
                TraceText = "<" + Gs2Header + _clientFirstBare + ">";
                return Encoding.UTF8.GetBytes(Gs2Header + _clientFirstBare);
            case 1:
                return ClientFinal(Encoding.UTF8.GetString(challenge));
            case 2:
                VerifyServerFinal(Encoding.UTF8.GetString(challenge));
                TraceText = "<empty>";
                return [];
            default:
                throw new SaslException($"The server sent a fourth {Name} challenge; SCRAM has three messages.");
        }
    }

    private byte[] ClientFinal(string serverFirst)
    {
        // server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count ["," extensions]
        if (serverFirst.StartsWith("m=", StringComparison.Ordinal))
        {
            throw new SaslException($"The server's {Name} message asks for a mandatory extension this client does not know.");
        }

        string? nonce = null, salt = null, iterations = null;
        foreach (var attribute in serverFirst.Split(','))
        {
            if (attribute.StartsWith("r=", StringComparison.Ordinal))
            {
                nonce = attribute[2..];
            }
            else if (attribute.StartsWith("s=", StringComparison.Ordinal))
            {
                salt = attribute[2..];
            }
            else if (attribute.StartsWith("i=", StringComparison.Ordinal))
            {
                iterations = attribute[2..];
            }
        }

        // The server's nonce must extend ours: otherwise the message is a replay or belongs to another exchange.
        if (nonce is null || nonce.Length <= _clientNonce.Length || !nonce.StartsWith(_clientNonce, StringComparison.Ordinal))
        {
            throw new SaslException($"The server's {Name} nonce does not extend the client's.");
        }

        if (salt is null || !TryBase64(salt, out var saltBytes) || saltBytes.Length == 0)
        {
            throw new SaslException($"The server's {Name} message has no valid salt.");
        }

        if (!int.TryParse(iterations, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1 || count > MaxIterations)
        {
            throw new SaslException($"The server's {Name} iteration count '{iterations}' is missing or outside 1 to {MaxIterations}.");
        }

        var hash = IsSha256 ? HashAlgorithmName.SHA256 : HashAlgorithmName.SHA1;
        var size = IsSha256 ? 32 : 20;
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(SaslPrep.Prepare(_password)), saltBytes, count, hash, size);
        var clientKey = Hmac(salted, "Client Key"u8);
        var storedKey = IsSha256 ? SHA256.HashData(clientKey) : SHA1.HashData(clientKey);
        var withoutProof = ChannelBinding + ",r=" + nonce;
        var authMessage = Encoding.UTF8.GetBytes(_clientFirstBare + "," + serverFirst + "," + withoutProof);
        var signature = Hmac(storedKey, authMessage);
        for (var i = 0; i < clientKey.Length; i++)
        {
            clientKey[i] ^= signature[i];
        }

        _serverSignature = Hmac(Hmac(salted, "Server Key"u8), authMessage);
        CryptographicOperations.ZeroMemory(salted);
        TraceText = "<" + withoutProof + ",p=masked>";
        return Encoding.UTF8.GetBytes(withoutProof + ",p=" + Convert.ToBase64String(clientKey));
    }

    private void VerifyServerFinal(string serverFinal)
    {
        if (serverFinal.StartsWith("e=", StringComparison.Ordinal))
        {
            throw new SaslException($"The server ended the {Name} exchange with the error '{serverFinal[2..]}'.");
        }

        var end = serverFinal.IndexOf(',', StringComparison.Ordinal);
        var value = end < 0 ? serverFinal : serverFinal[..end];
        if (!value.StartsWith("v=", StringComparison.Ordinal) || !TryBase64(value[2..], out var signature)
            || !CryptographicOperations.FixedTimeEquals(signature, _serverSignature))
        {
            throw new SaslException($"The server's {Name} signature is wrong: it does not know the password, so it is not the server it claims to be.");
        }

        _verified = true;
    }

    private byte[] Hmac(byte[] key, ReadOnlySpan<byte> data) => IsSha256 ? HMACSHA256.HashData(key, data) : HMACSHA1.HashData(key, data);

    /// <summary>RFC 5802 section 5.1: <c>=</c> and <c>,</c> in a user name are written <c>=3D</c> and <c>=2C</c>.</summary>
    internal static string EscapeName(string name) => name.Replace("=", "=3D", StringComparison.Ordinal).Replace(",", "=2C", StringComparison.Ordinal);

    /// <summary>24 random octets in base64: printable, and never a comma (RFC 5802 section 5.1).</summary>
    private static string NewNonce() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));

    private static bool TryBase64(string text, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromBase64String(text);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
