namespace Ksctl.Host;

/// <summary>
/// 'ksctl gcp-token': the exec credential plugin GKE kubeconfigs name when gke-gcloud-auth-plugin is not on PATH. It runs
/// Get-KsctlGcpToken, which prints an ExecCredential with an access token from the same chain New-KsctlCluster uses.
/// </summary>
internal static class GcpTokenVerb
{
    public const string Name = "gcp-token";

    /// <summary>The PowerShell command line the verb stands for; null when <paramref name="args"/> is not this verb.</summary>
    public static List<string>? CommandLine(string[] args) =>
        args.Length == 1 && args[0] == Name ? ["Get-KsctlGcpToken"] : null;
}
