using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.HAProxy;

/// <summary>Configures the load-balancer machine for a set of control planes.</summary>
public static class HaproxyInstaller
{
    /// <summary>A package install may meet a busy mirror: a generous budget.</summary>
    public const int Retries = 3;

    public static Task<RemoteCommandResult> ConfigureAsync(IRemoteShell shell, IReadOnlyList<string> controlPlanePrivateIps,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(shell);
        var script = HaproxyScripts.Install(HaproxyScripts.Config(controlPlanePrivateIps));
        return shell.RunAsync(new RemoteScript("haproxy:configure", script, Retries, TimeSpan.FromMinutes(5)), cancellationToken);
    }
}
