namespace Ksctl.Server.Security;

/// <summary>
/// What an API key may do. Ordered: each role includes the ones below it (an admin may do what an operator may,
/// an operator what a reader may).
/// </summary>
public enum ApiRole
{
    /// <summary>Lists and reads clusters, operations, the catalogue; never a secret.</summary>
    Reader = 1,
    /// <summary>Also creates, resizes and deletes clusters and turns their reconciliation on or off.</summary>
    Operator = 2,
    /// <summary>Also downloads kubeconfigs (the one response that carries a secret).</summary>
    Admin = 3,
}

internal static class Policies
{
    public const string Reader = "reader";
    public const string Operator = "operator";
    public const string Admin = "admin";
    public const string RoleClaim = "ksctl:role";
    public const string KeyIdClaim = "ksctl:keyid";
}
