namespace Ksctl.Core.Providers.Aws.Eks;

/// <summary>
/// The IAM trust policies and AWS-managed policies EKS needs, from the EKS user guide: "Amazon EKS cluster IAM role"
/// (trust eks.amazonaws.com, AmazonEKSClusterPolicy) and "Amazon EKS node IAM role" (trust ec2.amazonaws.com,
/// AmazonEKSWorkerNodePolicy, AmazonEC2ContainerRegistryReadOnly, AmazonEKS_CNI_Policy).
/// </summary>
internal static class EksPolicies
{
    public const string ClusterPolicy = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy";
    public const string WorkerNodePolicy = "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy";
    public const string CniPolicy = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy";
    public const string RegistryReadOnly = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";
    /// <summary>The EKS access policy that makes a principal cluster admin (EKS user guide, "Review access policy permissions").</summary>
    public const string ClusterAdminAccessPolicy = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

    public static readonly IReadOnlyList<string> ClusterRolePolicies = [ClusterPolicy];
    public static readonly IReadOnlyList<string> NodeRolePolicies = [WorkerNodePolicy, CniPolicy, RegistryReadOnly];

    public static string TrustPolicy(string service) =>
        $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"{{service}}"},"Action":"sts:AssumeRole"}]}""";

    public static readonly string ClusterTrust = TrustPolicy("eks.amazonaws.com");
    public static readonly string NodeTrust = TrustPolicy("ec2.amazonaws.com");
}
