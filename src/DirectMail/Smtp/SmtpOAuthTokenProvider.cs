using System.Threading;
using System.Threading.Tasks;

namespace DirectMail.Smtp;

/// <summary>
/// Gives the OAuth 2.0 access token to authenticate <paramref name="userName"/> with (XOAUTH2, OAUTHBEARER). Called for
/// every connection that authenticates; a provider normally returns a cached token until it nears its expiry.
/// </summary>
/// <param name="userName">The user the token is for (<see cref="SmtpCredentials.UserName"/>).</param>
/// <param name="refresh">
/// True when the server has just refused the previous token as expired or invalid (a 334 challenge carrying a JSON
/// error): return a newly issued token, not the cached one. The session asks once per connection, then gives up.
/// </param>
/// <param name="cancellationToken">The session's cancellation.</param>
/// <returns>The access token, without the <c>Bearer</c> prefix.</returns>
public delegate ValueTask<string> SmtpOAuthTokenProvider(string userName, bool refresh, CancellationToken cancellationToken);
