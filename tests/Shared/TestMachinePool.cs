using System.Text.Json;
using System.Text.RegularExpressions;
using Ksctl.Core.Remote.Keys;

namespace Ksctl.TestSupport;

/// <summary>
/// Plays a cloud's machine boot for the cloud emulators: a VM or instance created through the emulator becomes a
/// real test machine. Like cloud-init, it takes the host key and authorized keys out of the machine's user data
/// (cloud-config or a first-boot script), and the machine's sshd then presents only that host key — so the
/// provider's pinning is tested for real. Deleting the VM resets the machine to a fresh one.
/// </summary>
public sealed partial class TestMachinePool
{
    private readonly string _prefix;
    private readonly string _subnet;
    private readonly IReadOnlyList<InventoryMachine> _machines;
    private readonly Dictionary<string, InventoryMachine> _booted = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public TestMachinePool(string prefix, string subnet, IReadOnlyList<InventoryMachine> machines)
    {
        _prefix = prefix;
        _subnet = subnet;
        _machines = machines;
    }

    public IReadOnlyDictionary<string, InventoryMachine> Booted
    {
        get { lock (_gate) return new Dictionary<string, InventoryMachine>(_booted); }
    }

    /// <summary>
    /// Boots <paramref name="vmName"/> on a free machine (the same one again for the same name) and returns it with its new
    /// host key. <paramref name="privateCidr"/> (A.B.C.D/NN), the address the cloud's NIC reports, becomes the machine's
    /// private address, so what the cloud reports is what the machine really has; without it the machine keeps its own.
    /// </summary>
    public InventoryMachine Boot(string vmName, string userData, string? extraAuthorizedKey = null, string? privateCidr = null)
    {
        InventoryMachine machine;
        lock (_gate)
        {
            if (_booted.TryGetValue(vmName, out var existing)) return existing;
            var used = _booted.Values.Select(m => m.Index).ToHashSet();
            machine = _machines.FirstOrDefault(m => !used.Contains(m.Index))
                ?? throw new InvalidOperationException($"The test machine pool ({_machines.Count} machines) has no free machine for {vmName}.");
            _booted[vmName] = machine; // reserved while its sshd restarts
        }
        try
        {
            var hostKey = HostKeyPem(userData)
                ?? throw new InvalidOperationException($"The user data of {vmName} carries no host key (EC PRIVATE KEY block).");
            var keys = AuthorizedKeys(userData, hostKey).ToList();
            if (extraAuthorizedKey is not null) keys.Add(extraAuthorizedKey.Trim());
            var dir = Directory.CreateTempSubdirectory("ksctl-pool-");
            try
            {
                var hostKeyFile = Path.Combine(dir.FullName, "host_key");
                var authFile = Path.Combine(dir.FullName, "authorized_keys");
                File.WriteAllText(hostKeyFile, hostKey);
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(hostKeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                File.WriteAllText(authFile, string.Join('\n', keys) + "\n");
                string[] adopt = ["adopt", machine.Index.ToString(), hostKeyFile, authFile, .. privateCidr is null ? Array.Empty<string>() : [privateCidr]];
                var json = TestMachineHarness.Require(_prefix, _subnet, adopt);
                var adopted = JsonSerializer.Deserialize<InventoryMachine>(json.Trim())!;
                lock (_gate) _booted[vmName] = adopted;
                return adopted;
            }
            finally { dir.Delete(recursive: true); }
        }
        catch
        {
            lock (_gate) _booted.Remove(vmName);
            throw;
        }
    }

    /// <summary>The VM was deleted: its machine becomes a fresh one (nothing of the old cluster left on it).</summary>
    public bool Release(string vmName)
    {
        InventoryMachine? machine;
        lock (_gate)
        {
            if (!_booted.Remove(vmName, out machine)) return false;
        }
        TestMachineHarness.Require(_prefix, _subnet, "reset", machine.Index.ToString());
        return true;
    }

    /// <summary>The PEM host key in cloud-config (indented under ssh_keys) or a script (a here-document).</summary>
    public static string? HostKeyPem(string userData)
    {
        var m = PemBlock().Match(userData);
        if (!m.Success) return null;
        var lines = m.Value.Replace("\r", "").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0);
        return string.Join('\n', lines) + "\n";
    }

    /// <summary>Public key lines (RSA, ed25519, ECDSA) other than the host key's own public half.</summary>
    public static IEnumerable<string> AuthorizedKeys(string userData, string hostKeyPem)
    {
        var hostBlob = SshKeyPair.FromPrivateKeyPem(hostKeyPem).PublicKey.Split(' ')[1];
        return PublicKey().Matches(userData).Where(m => m.Groups["blob"].Value != hostBlob).Select(m => m.Value.Trim()).Distinct();
    }

    [GeneratedRegex(@"-----BEGIN EC PRIVATE KEY-----.*?-----END EC PRIVATE KEY-----", RegexOptions.Singleline)]
    private static partial Regex PemBlock();

    [GeneratedRegex(@"(?:ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp256) (?<blob>[A-Za-z0-9+/=]{40,})(?: [A-Za-z0-9._@-]+)?")]
    private static partial Regex PublicKey();
}
