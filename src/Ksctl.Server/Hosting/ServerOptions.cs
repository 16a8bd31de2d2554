namespace Ksctl.Server.Hosting;

/// <summary>
/// The server's settings: configuration section <c>Ksctl:Server</c> (appsettings.json, or environment variables such as
/// <c>Ksctl__Server__Port=8443</c>, or command-line <c>--Ksctl:Server:Port=8443</c>). The state store is not here: it is
/// the cmdlets' configuration ($KSCTL_HOME/config.json, KSCTL_STATE_*), read by Core.
/// </summary>
public sealed class ServerOptions
{
    public const string Section = "Ksctl:Server";

    /// <summary>$KSCTL_HOME for this server (default: the KSCTL_HOME variable, else ~/.ksctl).</summary>
    public string? Home { get; set; }
    /// <summary>The address to listen on (default every interface).</summary>
    public string Address { get; set; } = "0.0.0.0";
    /// <summary>The HTTPS port (0: any free port, for tests).</summary>
    public int Port { get; set; } = 8443;
    /// <summary>A PFX/PKCS#12 or PEM certificate; without one the server makes (once) and keeps a self-signed one in $KSCTL_HOME/server.</summary>
    public string? CertificatePath { get; set; }
    /// <summary>The private key of a PEM <see cref="CertificatePath"/>.</summary>
    public string? CertificateKeyPath { get; set; }
    /// <summary>The PFX password (prefer the environment: Ksctl__Server__CertificatePassword).</summary>
    public string? CertificatePassword { get; set; }
    /// <summary>The API key file (default $KSCTL_HOME/server/apikeys.json); read-only is fine (a mounted Secret): the server only reads it.</summary>
    public string? ApiKeysPath { get; set; }
    /// <summary>The largest request body Kestrel accepts.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;
    /// <summary>Requests per API key (or per client address without one) per minute; over it, 429.</summary>
    public int RequestsPerMinute { get; set; } = 600;
    /// <summary>Seconds between reconcile rounds over the clusters that opted in; 0 turns the reconciler off.</summary>
    public int ReconcileIntervalSeconds { get; set; } = 60;
}
