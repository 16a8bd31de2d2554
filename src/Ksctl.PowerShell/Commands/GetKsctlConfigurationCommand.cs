using System.Management.Automation;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>Shows where Ksctl keeps its configuration, state and logs ($env:KSCTL_HOME, default ~/.ksctl).</summary>
[Cmdlet(VerbsCommon.Get, "KsctlConfiguration")]
[OutputType(typeof(KsctlConfiguration))]
public sealed class GetKsctlConfigurationCommand : KsctlCmdlet
{
    protected override void ProcessRecord() => WriteObject(ModelMapper.ToConfiguration(GetSettings()));
}
