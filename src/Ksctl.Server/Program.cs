using Ksctl.Server.Hosting;
using Ksctl.Server.Security;

// ksctl-server                         serve the API and the web client (TLS; see README "Server")
// ksctl-server apikey create --name N --role reader|operator|admin
// ksctl-server apikey revoke --name N
// ksctl-server apikey list
if (args.Length > 0 && args[0] == "apikey") return ApiKeyCommand.Run(args[1..], Console.Out, Console.Error);

var app = KsctlServer.Build(args);
app.Lifetime.ApplicationStarted.Register(() =>
{
    var certificate = app.Services.GetRequiredService<System.Security.Cryptography.X509Certificates.X509Certificate2>();
    Console.WriteLine($"Ksctl server listening on {string.Join(", ", app.Urls)}");
    Console.WriteLine($"TLS certificate SHA-256 fingerprint: {ServerCertificate.Fingerprint(certificate)}");
});
await app.RunAsync();
return 0;

/// <summary>The entry point's type, for tests.</summary>
public partial class Program;
