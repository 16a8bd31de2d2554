using System.Text;

namespace Ksctl.Core.Providers.Gcp;

/// <summary>
/// A GKE kubeconfig: the endpoint and the cluster CA, and a client.authentication.k8s.io/v1beta1 exec entry, as
/// 'gcloud container clusters get-credentials' writes it for gke-gcloud-auth-plugin
/// (cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl), or Ksctl's own 'ksctl gcp-token'.
/// </summary>
internal static class GkeKubeconfig
{
    public static string Build(string context, string server, string caBase64, string? plugin)
    {
        var b = new StringBuilder();
        b.Append("apiVersion: v1\nkind: Config\n");
        b.Append("clusters:\n- name: ").Append(context).Append("\n  cluster:\n");
        b.Append("    server: ").Append(server).Append('\n');
        b.Append("    certificate-authority-data: ").Append(caBase64).Append('\n');
        b.Append("contexts:\n- name: ").Append(context).Append("\n  context:\n    cluster: ").Append(context).Append("\n    user: ").Append(context).Append('\n');
        b.Append("current-context: ").Append(context).Append('\n');
        b.Append("users:\n- name: ").Append(context).Append("\n  user:\n    exec:\n");
        b.Append("      apiVersion: client.authentication.k8s.io/v1beta1\n");
        if (plugin is not null)
        {
            b.Append("      command: ").Append(GcpProvider.AuthPlugin).Append('\n');
            b.Append("      installHint: Install gke-gcloud-auth-plugin for use with kubectl by following https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin\n");
            b.Append("      provideClusterInfo: true\n");
        }
        else
        {
            b.Append("      command: ksctl\n");
            b.Append("      args:\n      - ").Append(GcpProvider.KsctlTokenVerb).Append('\n');
            b.Append("      installHint: Install the ksctl .NET tool (dotnet tool install --global ksctl) or gke-gcloud-auth-plugin, then run Get-KsctlKubeconfig again.\n");
        }
        b.Append("      interactiveMode: Never\n");
        return b.ToString();
    }

    /// <summary>The full path of an executable on PATH (PATHEXT on Windows), or null.</summary>
    public static string? FindOnPath(string name)
    {
        var extensions = OperatingSystem.IsWindows() ? (Environment.GetEnvironmentVariable("PATHEXT") ?? ".EXE").Split(';') : [""];
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            foreach (var ext in extensions)
            {
                var candidate = Path.Combine(dir, name + ext);
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }
}
