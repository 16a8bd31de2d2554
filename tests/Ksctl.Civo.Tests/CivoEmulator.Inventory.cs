namespace Ksctl.Civo.Tests;

/// <summary>
/// Changes made behind Ksctl's back, for the drift checks of Test-KsctlCluster. Source: Civo API v2 docs (instances:
/// a deleted instance is gone from GET /v2/instances, which civogo's ListAllInstances reads), as in CivoEmulator.cs.
/// </summary>
public sealed partial class CivoEmulator
{
    /// <summary>Deletes an instance as someone in Civo's dashboard would: no request from Ksctl; its machine is released.</summary>
    public void DeleteInstanceOutOfBand(string hostname) => Remove(Instances.Single(i => i.Hostname == hostname));
}
