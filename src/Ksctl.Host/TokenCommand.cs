using System.Reflection;
using System.Runtime.Loader;

namespace Ksctl.Host;

/// <summary>
/// `ksctl token --cluster-name NAME --region REGION [--profile PROFILE]`: prints the ExecCredential
/// (client.authentication.k8s.io/v1beta1) with an EKS bearer token, as `aws eks get-token` does; the kubeconfig of an
/// EKS cluster runs it where the AWS CLI is not installed. The token comes from Ksctl.Core (EksToken), loaded from the
/// module's Dependencies/ folder into a private load context, the way the module itself loads it.
/// </summary>
internal static class TokenCommand
{
    public const string Usage = """
        Usage: ksctl token --cluster-name <name> --region <region> [--profile <profile>]
        Prints an ExecCredential with a bearer token for the EKS cluster (kubectl runs this from the kubeconfig).
        Credentials: the AWS SDK's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN,
        --profile or AWS_PROFILE, SSO, web identity, container and instance roles).
        """;

    public static int Run(string manifest, IReadOnlyList<string> args)
    {
        string? cluster = null, region = null, profile = null, sts = null;
        for (var i = 0; i < args.Count; i++)
        {
            var value = i + 1 < args.Count ? args[i + 1] : null;
            switch (args[i])
            {
                case "--cluster-name" or "-i" when value is not null: cluster = value; i++; break;
                case "--region" when value is not null: region = value; i++; break;
                case "--profile" when value is not null: profile = value; i++; break;
                // Where STS is (tests point it at the AWS emulator; the default is sts.<region>.amazonaws.com).
                case "--sts-endpoint" when value is not null: sts = value; i++; break;
                case "--help" or "-h": Console.WriteLine(Usage); return 0;
                default: Console.Error.WriteLine($"ksctl token: unknown argument '{args[i]}'.{Environment.NewLine}{Usage}"); return 2;
            }
        }
        region ??= Environment.GetEnvironmentVariable("AWS_REGION") ?? Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION");
        if (cluster is null || region is null) { Console.Error.WriteLine(Usage); return 2; }
        var dependencies = Path.Combine(Path.GetDirectoryName(manifest)!, "Dependencies");
        var context = new DependencyContext(dependencies);
        try
        {
            var core = context.LoadFromAssemblyPath(Path.Combine(dependencies, "Ksctl.Core.dll"));
            var token = core.GetType("Ksctl.Core.Providers.Aws.Eks.EksToken", throwOnError: true)!;
            var json = (string)token.GetMethod("ExecCredentialJson", BindingFlags.Public | BindingFlags.Static)!.Invoke(null, [cluster, region, profile, sts])!;
            Console.WriteLine(json);
            return 0;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            Console.Error.WriteLine($"ksctl token: {e.InnerException.Message}");
            return 1;
        }
    }

    private sealed class DependencyContext(string folder) : AssemblyLoadContext("ksctl-token-dependencies")
    {
        protected override Assembly? Load(AssemblyName name)
        {
            var path = Path.Combine(folder, name.Name + ".dll");
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }
}
