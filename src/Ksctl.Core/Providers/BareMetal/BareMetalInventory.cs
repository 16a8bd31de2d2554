using System.Net.Sockets;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.BareMetal;

/// <summary>
/// BareMetal has no cloud to ask, so its live inventory is the machines themselves: each recorded machine whose SSH
/// port accepts a TCP connection is present ("reachable"); one that refuses or does not answer within the timeout is
/// reported with why. Nothing is sent beyond the TCP handshake.
/// </summary>
internal static class BareMetalInventory
{
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    public static async Task<IReadOnlyList<LiveMachine>> ProbeAsync(ClusterState state, CancellationToken ct)
    {
        var probes = state.Nodes.Select(async n =>
        {
            var address = n.PublicIP ?? n.PrivateIP;
            if (address is null) return null;
            using var tcp = new TcpClient();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(ProbeTimeout);
            try
            {
                await tcp.ConnectAsync(address, n.SshPort, timeout.Token).ConfigureAwait(false);
                return new LiveMachine(n.Name, n.ResourceId, "reachable");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return new LiveMachine(n.Name, n.ResourceId, $"not answering on {address}:{n.SshPort} within {ProbeTimeout.TotalSeconds:0}s");
            }
            catch (SocketException ex)
            {
                return new LiveMachine(n.Name, n.ResourceId, $"not answering on {address}:{n.SshPort} ({ex.SocketErrorCode})");
            }
        });
        return (await Task.WhenAll(probes).ConfigureAwait(false)).OfType<LiveMachine>().ToList();
    }
}
