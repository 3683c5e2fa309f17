using System;
using System.Text.Json;

namespace DirectMail.Smtp.Auth;

/// <summary>
/// The JSON error a server sends as a 334 challenge when it refuses an OAuth token (RFC 7628 section 3.2.2; Google's
/// XOAUTH2 sends the same shape): <c>{"status":"invalid_token", ...}</c> or <c>{"status":"401", ...}</c>.
/// </summary>
internal static class OAuthErrorChallenge
{
    /// <summary>True when the challenge's status says the token expired or is invalid, so that a fresh one may pass.</summary>
    public static bool SaysTokenRejected(ReadOnlySpan<byte> challenge)
    {
        try
        {
            var reader = new Utf8JsonReader(challenge);
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("status"u8))
                {
                    reader.Read();
                    return reader.TokenType == JsonTokenType.String && (reader.ValueTextEquals("invalid_token"u8) || reader.ValueTextEquals("401"u8));
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: the server refused for a reason of its own.
        }

        return false;
    }
}
