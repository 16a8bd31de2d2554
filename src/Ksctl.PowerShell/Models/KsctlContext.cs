namespace Ksctl.PowerShell.Models;

/// <summary>The kubeconfig context Switch-KsctlContext wrote and made current.</summary>
public sealed class KsctlContext
{
    public string ContextName { get; init; } = "";
    /// <summary>The kubeconfig file written.</summary>
    public string Path { get; init; } = "";
    public string ClusterName { get; init; } = "";
    public string? Server { get; init; }

    public override string ToString() => ContextName;
}
