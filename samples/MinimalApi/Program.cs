// POST /signup {"email":"someone@example.org"} sends a confirmation and returns the delivery report.
using DirectMail.Delivery;
using DirectMail.Mime;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddDirectMail(options => options.HeloName = builder.Configuration["DirectMail:HeloName"] ?? "mail.example.com");
var app = builder.Build();

app.MapPost("/signup", async (SignUp request, IDirectMailer mailer, CancellationToken cancellationToken) =>
{
    if (!EmailAddress.TryParse(request.Email, out var address))
    {
        return Results.BadRequest(new { error = "That is not an email address." });
    }

    var message = new EmailMessage
    {
        From = new EmailAddress("welcome@example.com", "Example"),
        Subject = "Confirm your sign-up",
        TextBody = "Welcome! Reply to this message if you did not sign up.",
    };
    message.To.Add(address);

    var report = await mailer.SendAsync(message, cancellationToken);
    return Results.Ok(new
    {
        delivered = report.IsFullyDelivered,
        recipients = report.Recipients.Select(r => new { r.Address, status = r.Status.ToString(), code = r.Reply?.Code, reply = r.Reply?.Text, r.MxHost, r.Hint }),
        report.Diagnostics,
    });
});

app.Run();

internal sealed record SignUp(string Email);
