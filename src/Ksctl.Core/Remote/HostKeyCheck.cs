using Renci.SshNet.Common;

namespace Ksctl.Core.Remote;

/// <summary>Decides inside SSH.NET's HostKeyReceived event, before authentication: a refused key means nothing can run.</summary>
internal sealed class HostKeyCheck(string? expected, bool allowTrustOnFirstUse)
{
    public string? Expected { get; } = expected;
    public string? Observed { get; private set; }
    public bool Mismatch { get; private set; }
    public bool Unknown { get; private set; }
    public bool Learned { get; private set; }

    public void OnHostKeyReceived(object? sender, HostKeyEventArgs e)
    {
        Observed = HostKeyFingerprints.FromBase64(e.FingerPrintSHA256);
        if (Expected is not null)
        {
            Mismatch = !HostKeyFingerprints.AreEqual(Expected, Observed);
            e.CanTrust = !Mismatch;
        }
        else if (allowTrustOnFirstUse)
        {
            Learned = true;
            e.CanTrust = true;
        }
        else
        {
            Unknown = true;
            e.CanTrust = false;
        }
    }
}
