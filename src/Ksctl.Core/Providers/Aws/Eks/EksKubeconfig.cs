using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Aws.Eks;

/// <summary>
/// The kubeconfig of an EKS cluster: its endpoint and CA, and a user whose token comes from an exec plugin
/// (client.authentication.k8s.io/v1beta1), as `aws eks update-kubeconfig` writes it: `aws eks get-token` when the AWS
/// CLI is on PATH, else `ksctl token` (the Ksctl host's own generator of the same k8s-aws-v1 token). No secret is in it.
/// A cluster created with -ProfileName gets <c>env: [{name: AWS_PROFILE, value: profile}]</c> in its exec entry, as
/// `aws eks update-kubeconfig --profile` writes it (aws-cli awscli/customizations/eks/update_kubeconfig.py), so the
/// token is made with the same profile whatever the shell's environment says.
/// </summary>
internal static class EksKubeconfig
{
    public static PlanStep Step(ClusterId id, string? profile = null) =>
        new("kubeconfig", (ctx, _) =>
        {
            var endpoint = ctx.State.Endpoint;
            var ca = ctx.State.Resources.GetValueOrDefault(EksControlPlane.CertificateAuthorityKey);
            if (endpoint is null || ca is null)
                throw new KsctlException("KsctlStateInconsistent", KsctlErrorCategory.InvalidData, "The cluster's endpoint or CA is not recorded; run the command again.", id.Name);
            var context = id.DefaultContextName;
            var yaml = KubeconfigFile.Normalize(Build(id, endpoint, ca, context, AwsCliOnPath(), profile), context);
            ctx.Mutate(s =>
            {
                s.Secrets[ClusterState.KubeconfigSecret] = yaml;
                s.ContextName = context;
            });
            return Task.CompletedTask;
        })
        {
            DependsOn = [EksControlPlane.ClusterKey, EksControlPlane.AdminKey],
            Description = $"write the kubeconfig (endpoint, CA, exec token: aws eks get-token or ksctl token) as context {id.DefaultContextName}",
            Resources = [$"context {id.DefaultContextName}"],
        };

    internal static string Build(ClusterId id, string endpoint, string ca, string context, bool awsCli, string? profile = null)
    {
        // At the column of exec's keys (6) in the document below; the args are indented further, as YAML allows.
        var env = profile is null ? "" : $"\n      env:\n      - name: AWS_PROFILE\n        value: {Quote(profile)}";
        var name = EksNames.Cluster(id);
        var (command, args) = awsCli
            ? ("aws", new[] { "--region", id.Region, "eks", "get-token", "--cluster-name", name, "--output", "json" })
            : ("ksctl", new[] { "token", "--cluster-name", name, "--region", id.Region });
        var argLines = string.Join("", args.Select(a => $"\n      - {Quote(a)}"));
        return $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: {Quote(context)}
              cluster:
                server: {Quote(endpoint)}
                certificate-authority-data: {Quote(ca)}
            users:
            - name: {Quote(context)}
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1beta1
                  command: {command}
                  interactiveMode: Never
                  args:{argLines.Replace("\n", "\n    ")}{env}
            contexts:
            - name: {Quote(context)}
              context:
                cluster: {Quote(context)}
                user: {Quote(context)}
            current-context: {Quote(context)}

            """;
    }

    /// <summary>YAML single-quoted scalar (a quote is doubled), so no value read back can change the document's shape.</summary>
    private static string Quote(string value) => "'" + value.Replace("'", "''") + "'";

    internal static bool AwsCliOnPath()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        var names = OperatingSystem.IsWindows() ? new[] { "aws.exe", "aws.cmd" } : ["aws"];
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Any(dir => names.Any(n => File.Exists(Path.Combine(dir, n))));
    }
}
