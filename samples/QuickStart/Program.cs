// Sends one message straight to the recipient's MX: dotnet run --project samples/QuickStart -- you@example.org
// Needs outbound port 25 and a HELO name that matches this host's reverse DNS (see the README's "Realities").
using DirectMail.Delivery;
using DirectMail.Mime;

await using var mailer = new DirectMailer(new DirectMailOptions { HeloName = "mail.example.com" });

var message = new EmailMessage { From = new EmailAddress("me@example.com", "Me"), Subject = "Hello", TextBody = "Sent straight to your MX." };
message.To.Add(args.Length > 0 ? args[0] : "you@example.org");

var report = await mailer.SendAsync(message);
foreach (var recipient in report.Recipients)
{
    Console.WriteLine(recipient); // you@example.org: Delivered (250 2.0.0 OK ...) via mx.example.org [192.0.2.25]
}
