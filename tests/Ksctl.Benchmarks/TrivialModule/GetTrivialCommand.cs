using System.Management.Automation;

namespace Trivial;

/// <summary>The only cmdlet of the baseline module.</summary>
[Cmdlet(VerbsCommon.Get, "Trivial")]
[OutputType(typeof(string))]
public sealed class GetTrivialCommand : PSCmdlet
{
    [Parameter(Position = 0)]
    public string Name { get; set; } = "trivial";

    protected override void ProcessRecord() => WriteObject($"hello {Name}");
}
