namespace Ksctl.Core.Distributions;

/// <summary>
/// What a distribution needs to run with an external cloud provider (a cloud controller manager installed after it,
/// see Providers/CloudControllers): the kubelet registers with <c>cloud-provider=external</c> (the node then carries
/// the node.cloudprovider.kubernetes.io/uninitialized taint until the controller initialises it, per "Cloud
/// Controller Manager Administration", kubernetes.io/docs/tasks/administer-cluster/running-cloud-controller/).
/// </summary>
internal static class ExternalCloudProvider
{
    /// <summary>K3s servers: k3s's embedded cloud controller off and the kubelet external (docs.k3s.io/cli/server, "--disable-cloud-controller"; docs.k3s.io/networking/networking-services, "Deploying an External Cloud Controller Manager").</summary>
    public static readonly string[] K3sServerArgs = ["--disable-cloud-controller", "--kubelet-arg=cloud-provider=external"];

    /// <summary>K3s agents: the kubelet external.</summary>
    public static readonly string[] K3sAgentArgs = ["--kubelet-arg=cloud-provider=external"];

    /// <summary>
    /// kubeadm v1beta4 nodeRegistration.kubeletExtraArgs (a list of name/value pairs in v1beta4, per the "kubeadm
    /// Configuration (v1beta4)" reference) with cloud-provider: external, indented under nodeRegistration; empty when off.
    /// </summary>
    public static string KubeadmKubeletExtraArgs(bool on, string indent) =>
        on ? $"{indent}kubeletExtraArgs:\n{indent}- name: cloud-provider\n{indent}  value: external\n" : "";
}
