using System.Collections;
using System.Management.Automation;
using System.Runtime.CompilerServices;

namespace Ksctl.PowerShell.Internal;

/// <summary>
/// -Provider accepts exactly the providers this build registers (Core's ProviderCatalog, read from the registry), not
/// a list kept here: a provider added to Core is accepted, completed and documented without another edit.
/// PowerShellStandard 5.1 has no IValidateSetValuesGenerator, so this is a validation attribute plus
/// <see cref="Completers.ProviderCompleter"/>. Core loads only when a value is validated, never at import.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateProviderAttribute : ValidateArgumentsAttribute
{
    /// <summary>Only providers that take a cloud credential (Set-/Get-/Remove-KsctlCredential).</summary>
    public bool CredentialsOnly { get; set; }

    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        var allowed = Allowed(CredentialsOnly);
        var values = arguments is IEnumerable e and not string ? e.Cast<object?>() : [arguments];
        foreach (var value in values)
        {
            var text = (value is PSObject p ? p.BaseObject : value)?.ToString();
            if (text is null || !allowed.Contains(text.Trim(), StringComparer.OrdinalIgnoreCase))
                throw new ValidationMetadataException($"'{text}' is not a provider of this version of Ksctl{(CredentialsOnly ? " that takes a credential" : "")}. " +
                    $"Valid values: {string.Join(", ", allowed)}.");
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static IReadOnlyList<string> Allowed(bool credentialsOnly) =>
        (credentialsOnly ? Core.Clusters.ProviderCatalog.TakingCredentials : Core.Clusters.ProviderCatalog.Available).Select(p => p.ToString()).ToList();
}
