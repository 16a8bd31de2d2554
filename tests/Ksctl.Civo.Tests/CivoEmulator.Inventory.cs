namespace Ksctl.Civo.Tests;

/// <summary>Changes made behind Ksctl's back, for the drift checks of Test-KsctlCluster.</summary>
public sealed partial class CivoEmulator
{
    /// <summary>Deletes an instance as someone in Civo's dashboard would: no request from Ksctl; its machine is released.</summary>
    public void DeleteInstanceOutOfBand(string hostname) => Remove(Instances.Single(i => i.Hostname == hostname));
}
