using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Ksctl.Core.Clusters;
using Ksctl.Core.Model;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Completers;

/// <summary>Tab completion of -Addon from Ksctl's catalogue (fast, never throws).</summary>
public sealed class AddonNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = (wordToComplete ?? "").Trim('\'', '"');
        foreach (var addon in ClusterManager.AvailableAddons)
            if (addon.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                yield return new CompletionResult(addon.Name, addon.Name, CompletionResultType.ParameterValue, $"{addon.Name} {addon.Version}: {addon.Description}");
    }
}

internal static class AddonModels
{
    public static KsctlAddon Installed(ClusterState state, AddonRecord record) => new()
    {
        Name = record.Name, Version = record.Version, Cluster = state.Id.ToString(), Installed = true,
        InstalledAt = record.InstalledAt, ObjectCount = record.Objects.Count, Sha256 = record.Sha256,
        Description = ClusterManager.AvailableAddons.FirstOrDefault(a => a.Name == record.Name)?.Description ?? "",
    };

    public static KsctlAddon Available(AddonInfo info) => new()
    {
        Name = info.Name, Version = info.Version, Sha256 = info.Sha256, Source = info.Source, Description = info.Description,
    };
}
