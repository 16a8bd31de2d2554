using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Ksctl.PowerShell.Completers;

/// <summary>Common completer shape: filter candidates by the typed prefix, quote when needed, never throw.</summary>
public abstract class CompleterBase : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = (wordToComplete ?? "").Trim('\'', '"');
        try
        {
            return Candidates(prefix, fakeBoundParameters ?? new Hashtable())
                .Where(c => c.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .Select(c => new CompletionResult(Quote(c), c, CompletionResultType.ParameterValue, c))
                .ToList();
        }
        catch (Exception)
        {
            // A completer must never break the prompt: an unreadable store or configuration just offers nothing.
            return [];
        }
    }

    internal abstract IEnumerable<string> Candidates(string prefix, IDictionary fakeBoundParameters);

    private static string Quote(string value) =>
        value.Any(ch => char.IsWhiteSpace(ch) || "'\"`$(){}[];,|&@#<>".Contains(ch)) ? $"'{value.Replace("'", "''")}'" : value;
}

/// <summary>Regions of the provider given by -Provider (all providers' regions when none is given yet).</summary>
public sealed class RegionCompleter : CompleterBase
{
    internal override IEnumerable<string> Candidates(string prefix, IDictionary fakeBoundParameters) => CompletionCatalog.Regions(fakeBoundParameters);
}

/// <summary>Node sizes of the provider given by -Provider.</summary>
public sealed class NodeSizeCompleter : CompleterBase
{
    internal override IEnumerable<string> Candidates(string prefix, IDictionary fakeBoundParameters) => CompletionCatalog.NodeSizes(fakeBoundParameters);
}

/// <summary>Sizes of self-managed machines of the provider given by -Provider (instance/VM sizes, not managed node sizes).</summary>
public sealed class MachineSizeCompleter : CompleterBase
{
    internal override IEnumerable<string> Candidates(string prefix, IDictionary fakeBoundParameters) => CompletionCatalog.MachineSizes(fakeBoundParameters);
}

/// <summary>Names of clusters in the state store.</summary>
public sealed class ClusterNameCompleter : CompleterBase
{
    internal override IEnumerable<string> Candidates(string prefix, IDictionary fakeBoundParameters) =>
        CompletionCatalog.ClusterNames(prefix, fakeBoundParameters, TimeSpan.FromSeconds(2));
}

/// <summary>The providers this build registers (the same list -Provider validation accepts).</summary>
public sealed class ProviderCompleter : CompleterBase
{
    internal override IEnumerable<string> Candidates(string prefix, IDictionary fakeBoundParameters) => Internal.ValidateProviderAttribute.Allowed(credentialsOnly: false);
}

/// <summary>The providers that take a cloud credential.</summary>
public sealed class CredentialProviderCompleter : CompleterBase
{
    internal override IEnumerable<string> Candidates(string prefix, IDictionary fakeBoundParameters) => Internal.ValidateProviderAttribute.Allowed(credentialsOnly: true);
}
