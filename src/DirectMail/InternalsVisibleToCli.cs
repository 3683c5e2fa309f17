using System.Runtime.CompilerServices;

// The directmail tool (its own package, shipped in lockstep with the core) drives an SMTP conversation step by step for
// `send --quit-after` (Smtp/SmtpProbe.cs, over the internal SmtpConnection) and builds the probe's session settings as
// the mailer does (DirectMailOptions.ToSessionOptions, RelayTarget). Kept in a file of its own beside the csproj's
// other InternalsVisibleTo entries, which it belongs with.
[assembly: InternalsVisibleTo("DirectMail.Cli")]
