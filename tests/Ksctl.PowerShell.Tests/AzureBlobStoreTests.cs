using System.Diagnostics;
using System.Management.Automation;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>
/// The cmdlets against a real Azure Blob Storage emulator (Azurite): the AzureBlob store selected the way a runbook
/// selects it (KSCTL_STATE_* variables), or saved with Set-KsctlConfiguration; secrets never stored or shown in plaintext.
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class AzureBlobStoreTests(AzuriteFixture fixture) : IClassFixture<AzuriteFixture>
{
    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
    /// <summary>What the kind stand-in puts in the kubeconfig of cluster <paramref name="name"/>.</summary>
    private static string ClientKeyData(string name) => B64($"{name} standin key");
    private static string CertificateData(string name) => B64($"{name} standin cert");

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    [Fact]
    public void CreateGetDelete_WithTheStoreFromEnvironmentVariables_AndTheBlobHoldsNoPlaintextSecret()
    {
        using var session = new KsctlSession();
        using var blob = new BlobStoreEnvironment(fixture.Azurite);

        dynamic config = session.RunClean("Get-KsctlConfiguration").Single();
        Assert.Equal("AzureBlob", (string)config.StateStore);
        Assert.Equal(blob.Container, (string)config.Container);
        Assert.Contains("KSCTL_STATE_CONNECTION_STRING", (string)config.Authentication);
        Assert.Contains("KSCTL_STATE_STORE", (string[])config.EnvironmentOverrides);
        Assert.DoesNotContain(Storage.Tests.Harness.AzuriteInstance.AccountKey, AllStreams.Capture(session, "Get-KsctlConfiguration; Get-KsctlConfiguration | Out-Default"));

        session.RunClean("New-KsctlCluster blobby -Provider Local");
        dynamic got = session.RunClean("Get-KsctlCluster blobby").Single();
        Assert.Equal("Running", (string)got.Status);
        Assert.Empty(session.StateFiles());

        var blobs = blob.RawBlobs();
        var name = Assert.Single(blobs.Keys, k => k.EndsWith("/state.json"));
        Assert.Equal("local/managed/blobby LOCAL/state.json", name);
        var raw = Text(blobs[name]);
        Assert.DoesNotContain(ClientKeyData("blobby"), raw);
        Assert.DoesNotContain(CertificateData("blobby"), raw);
        Assert.DoesNotContain("client-key-data", raw);
        // The secret is there, encrypted: decrypting it independently gives the kubeconfig the cluster was created with.
        using (var doc = JsonDocument.Parse(blobs[name]))
        {
            var stored = doc.RootElement.GetProperty("secrets").GetProperty("kubeconfig").GetString()!;
            // Bound to the cluster and the secret's name (associated data "state:<provider>/<type>/<name>/<region>:<secret>").
            Assert.Contains(ClientKeyData("blobby"), blob.Decrypt(stored, "state:local/managed/blobby/LOCAL:kubeconfig"));
            Assert.StartsWith("ksctl-hmac:v1:", doc.RootElement.GetProperty("integrity").GetString());
        }

        session.RunClean("Remove-KsctlCluster blobby -Force");
        Assert.Empty(session.RunClean("Get-KsctlCluster").Output);
        Assert.DoesNotContain(blob.RawBlobs().Keys, k => k.EndsWith("/state.json"));
    }

    [Fact]
    public void SetConfiguration_ValidatesBeforeSaving_AndSavesTheConnectionStringOnlyEncrypted()
    {
        using var session = new KsctlSession();
        using var blob = new BlobStoreEnvironment(fixture.Azurite);
        BlobStoreEnvironment.Clear();
        var configPath = Path.Combine(session.Home, "config.json");

        void Refused(string script, string errorId, string mention)
        {
            var result = session.Run(script);
            var error = Assert.Single(result.Errors);
            Assert.Equal(errorId, error.FullyQualifiedErrorId.Split(',')[0]);
            Assert.Contains(mention, error.Exception.Message);
            Assert.False(File.Exists(configPath), $"{script} saved the configuration");
        }
        Refused("Set-KsctlConfiguration -StateStore AzureBlob -StorageAccountUri http://acct.blob.core.windows.net -Container state", "KsctlInvalidStorageAccountUri", "https");
        Refused("Set-KsctlConfiguration -StateStore AzureBlob -StorageAccountUri https://acct.blob.core.windows.net -Container Bad_Name", "KsctlInvalidContainer", "Bad_Name");
        Refused("Set-KsctlConfiguration -StateStore AzureBlob -StorageAccountUri https://acct.blob.core.windows.net -Container a--b", "KsctlInvalidContainer", "a--b");
        Refused("Set-KsctlConfiguration -StateStore AzureBlob -StorageAccountUri https://acct.blob.core.windows.net", "KsctlStateStoreIncomplete", "-Container");
        Refused("Set-KsctlConfiguration -StateStore AzureBlob -Container state", "KsctlStateStoreIncomplete", "-StorageAccountUri");
        var cs = $"([System.Net.NetworkCredential]::new('', '{blob.ConnectionString}').SecurePassword)";
        Refused($"Set-KsctlConfiguration -StateStore AzureBlob -Container {blob.Container} -ConnectionString {cs}", "KsctlStateKeyMissing", "KSCTL_STATE_CONNECTION_STRING");
        Refused($"Set-KsctlConfiguration -StateStore AzureBlob -Container {blob.Container} -ConnectionString ([System.Net.NetworkCredential]::new('', 'not a connection string').SecurePassword) -StateKeyPath '{Path.Combine(session.Root, "missing.key")}'",
            "KsctlInvalidStateKeyPath", "does not exist");

        var keyPath = Path.Combine(session.Root, "state.key");
        File.WriteAllText(keyPath, blob.KeyBase64 + "\n");
        Refused($"Set-KsctlConfiguration -StateStore AzureBlob -Container {blob.Container} -ConnectionString ([System.Net.NetworkCredential]::new('', 'not a connection string').SecurePassword) -StateKeyPath '{keyPath}'",
            "KsctlInvalidConnectionString", "connection string");

        dynamic saved = session.RunClean($"Set-KsctlConfiguration -StateStore AzureBlob -Container {blob.Container} -ConnectionString {cs} -StateKeyPath '{keyPath}' -PassThru").Single();
        Assert.Equal("AzureBlob", (string)saved.StateStore);
        Assert.Equal("ConnectionString (encrypted in config.json)", (string)saved.Authentication);
        Assert.Equal(keyPath, (string)saved.StateKeyPath);
        var configText = File.ReadAllText(configPath);
        Assert.DoesNotContain(Storage.Tests.Harness.AzuriteInstance.AccountKey, configText);
        Assert.DoesNotContain("AccountKey", configText);
        Assert.Contains("ksctl-aesgcm:v1:", configText);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(configPath));

        // The saved configuration alone (no KSCTL_STATE_* variable) reaches the store.
        session.RunClean("New-KsctlCluster saved -Provider Local");
        Assert.Empty(session.StateFiles());
        Assert.Contains("local/managed/saved LOCAL/state.json", blob.RawBlobs().Keys);
        Assert.Single(session.RunClean("Get-KsctlCluster saved").Output);

        // Back to the file store; the AzureBlob settings stay saved for later.
        session.RunClean("Set-KsctlConfiguration -StateStore File");
        Assert.Empty(session.RunClean("Get-KsctlCluster").Output);
    }

    [Fact]
    public void ExportFromFile_ImportIntoBlob_AndBack_DocumentsIdentical_AndImportRefusesToOverwrite()
    {
        using var session = new KsctlSession();
        using var blob = new BlobStoreEnvironment(fixture.Azurite);
        BlobStoreEnvironment.Clear();

        session.RunClean("New-KsctlCluster alpha -Provider Local; New-KsctlCluster beta -Provider Local -NodeCount 2");
        var originals = session.StateFiles().Where(f => f.EndsWith("state.json")).ToDictionary(f => Path.GetRelativePath(session.StatePath, f), File.ReadAllBytes);
        Assert.Equal(2, originals.Count);

        var export1 = Path.Combine(session.Root, "export1.json");
        var key = Path.Combine(session.Root, "export.key");
        var noKey = session.Run($"Export-KsctlState -Path '{export1}'");
        Assert.Equal("KsctlStateKeyMissing", Assert.Single(noKey.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.False(File.Exists(export1));

        var exported = session.RunClean($"Export-KsctlState -Path '{export1}' -KeyPath '{key}'");
        dynamic info = exported.Single();
        Assert.Equal(2, (int)info.ClusterCount);
        Assert.True((bool)info.KeyCreated);
        Assert.Contains(exported.Warnings, w => w.Contains("Created the key file"));
        Assert.True(File.Exists(key));
        var exportText = File.ReadAllText(export1);
        Assert.DoesNotContain(ClientKeyData("alpha"), exportText);
        Assert.DoesNotContain(ClientKeyData("beta"), exportText);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(export1));

        // Into AzureBlob.
        blob.Apply();
        Assert.Empty(session.RunClean("Get-KsctlCluster").Output);
        var missingKey = session.Run($"Import-KsctlState -Path '{export1}'");
        Assert.Equal("KsctlStateKeyMissing", Assert.Single(missingKey.Errors).FullyQualifiedErrorId.Split(',')[0]);
        var wrongKey = Path.Combine(session.Root, "wrong.key");
        File.WriteAllText(wrongKey, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        var wrong = session.Run($"Import-KsctlState -Path '{export1}' -KeyPath '{wrongKey}'");
        Assert.Equal("KsctlStateKeyInvalid", Assert.Single(wrong.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Empty(session.RunClean("Get-KsctlCluster").Output);

        var imported = session.RunClean($"Import-KsctlState -Path '{export1}' -KeyPath '{key}' -PassThru");
        Assert.Equal(["alpha", "beta"], imported.Output.Select(o => (string)((dynamic)o).Name).Order());
        Assert.Equal(["alpha", "beta"], session.RunClean("Get-KsctlCluster").Output.Select(o => (string)((dynamic)o).Name).Order());
        Assert.All(blob.RawBlobs().Where(b => b.Key.EndsWith("/state.json")), b => Assert.DoesNotContain("client-key-data", Text(b.Value)));

        // Again without -Force: one ResourceExists error per cluster, nothing changed.
        var before = blob.RawBlobs().Where(b => b.Key.EndsWith("/state.json")).ToDictionary(b => b.Key, b => b.Value);
        var again = session.Run($"Import-KsctlState -Path '{export1}' -KeyPath '{key}'");
        Assert.Equal(2, again.Errors.Count);
        Assert.All(again.Errors, e =>
        {
            Assert.Equal("KsctlClusterExists", e.FullyQualifiedErrorId.Split(',')[0]);
            Assert.Equal(ErrorCategory.ResourceExists, e.CategoryInfo.Category);
        });
        Assert.Equal(before, blob.RawBlobs().Where(b => b.Key.EndsWith("/state.json")).ToDictionary(b => b.Key, b => b.Value));
        session.RunClean($"Import-KsctlState -Path '{export1}' -KeyPath '{key}' -Force");

        // Out of AzureBlob, into a fresh file store.
        var export2 = Path.Combine(session.Root, "export2.json");
        session.RunClean($"Get-KsctlCluster | Export-KsctlState -Path '{export2}' -KeyPath '{key}'");
        BlobStoreEnvironment.Clear();
        var fresh = Path.Combine(session.Root, "fresh-state");
        session.RunClean($"Set-KsctlConfiguration -StatePath '{fresh}'");
        session.RunClean($"Import-KsctlState -Path '{export2}' -KeyPath '{key}'");
        var roundTripped = Directory.GetFiles(fresh, "state.json", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(fresh, f), File.ReadAllBytes);
        Assert.Equal(originals.Keys.Order(), roundTripped.Keys.Order());
        foreach (var (path, bytes) in originals) Assert.Equal(Text(bytes), Text(roundTripped[path]));
    }

    [Fact]
    public void Credentials_RoundTripInBothStores_AndGetNeverShowsTheSecret()
    {
        using var session = new KsctlSession();
        using var blob = new BlobStoreEnvironment(fixture.Azurite);
        var secret = "sp-secret-" + Guid.NewGuid().ToString("N");
        const string clientId = "00000000-0000-0000-0000-0000000000aa";
        var set = $"Set-KsctlCredential -Provider Azure -Credential ([pscredential]::new('{clientId}', ([System.Net.NetworkCredential]::new('', '{secret}').SecurePassword))) -TenantId tenant-1 -SubscriptionId sub-1 -PassThru";

        // AzureBlob: a blob whose secret is encrypted with the state key.
        var text = AllStreams.Capture(session, set + "; Get-KsctlCredential; Get-KsctlCredential -Provider Azure | Out-Default");
        Assert.DoesNotContain(secret, text);
        dynamic listed = session.RunClean("Get-KsctlCredential").Single();
        Assert.Equal("Azure", (string)listed.Provider);
        Assert.Equal(clientId, (string)listed.UserName);
        Assert.Equal(clientId, (string)listed.ClientId);
        Assert.Equal("tenant-1", (string)listed.TenantId);
        Assert.Equal("sub-1", (string)listed.SubscriptionId);
        Assert.DoesNotContain(((PSObject)session.RunClean("Get-KsctlCredential").Output[0]).Properties, p => p.Name is "Secret" or "Password");
        var raw = blob.RawBlobs()["credentials/azure.json"];
        Assert.DoesNotContain(secret, Text(raw));
        using (var doc = JsonDocument.Parse(raw))
            Assert.Equal(secret, blob.Decrypt(doc.RootElement.GetProperty("secret").GetString()!, "credential:azure"));

        var notFound = session.Run("Get-KsctlCredential -Provider Civo");
        Assert.Equal(ErrorCategory.ObjectNotFound, Assert.Single(notFound.Errors).CategoryInfo.Category);
        session.RunClean("Remove-KsctlCredential -Provider Azure -WhatIf");
        Assert.Single(session.RunClean("Get-KsctlCredential").Output);
        session.RunClean("Remove-KsctlCredential -Provider Azure -Force");
        Assert.Empty(session.RunClean("Get-KsctlCredential").Output);
        Assert.DoesNotContain("credentials/azure.json", blob.RawBlobs().Keys);

        // An AzureBlob store without a state key refuses to save a credential.
        Environment.SetEnvironmentVariable("KSCTL_STATE_KEY", null);
        var refused = session.Run(set);
        Assert.Equal("KsctlStateKeyMissing", Assert.Single(refused.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.DoesNotContain(secret, refused.Errors[0].ToString());

        // File store: a 0600 file under the state root.
        BlobStoreEnvironment.Clear();
        session.RunClean(set.Replace("-PassThru", ""));
        var file = Path.Combine(session.StatePath, "credentials", "azure.json");
        Assert.True(File.Exists(file));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(clientId, (string)((dynamic)session.RunClean("Get-KsctlCredential Azure").Single()).UserName);
        Assert.Empty(session.RunClean("Get-KsctlCluster").Output); // the credentials folder is not a cluster
        session.RunClean("Get-KsctlCredential | Remove-KsctlCredential -Confirm:$false");
        Assert.False(File.Exists(file));
    }

    [Fact]
    public void EveryStream_OfAFullLifecycle_HoldsNoPlantedSecret()
    {
        using var session = new KsctlSession();
        using var blob = new BlobStoreEnvironment(fixture.Azurite);
        var password = "civo-token-" + Guid.NewGuid().ToString("N");
        var errors = new List<ErrorRecord>();
        var text = AllStreams.Capture(session, $$"""
            Set-KsctlCredential -Provider Civo -Credential ([pscredential]::new('civo', ([System.Net.NetworkCredential]::new('', '{{password}}').SecurePassword))) -Region LON1 -PassThru -Verbose
            Get-KsctlCredential -Verbose | Out-Default
            New-KsctlCluster leaky -Provider Local -NodeCount 2 -WhatIf
            New-KsctlCluster leaky -Provider Local -NodeCount 2 -Verbose -Debug
            Get-KsctlCluster leaky -Verbose | Out-Default
            Get-KsctlCluster leaky | ForEach-Object { $_.Nodes } | Out-Default
            Get-KsctlCluster -Verbose
            Switch-KsctlContext leaky -PassThru -Verbose -Debug
            Get-KsctlCluster nothere
            Get-KsctlConfiguration | Out-Default
            Remove-KsctlCluster leaky -Force -PassThru -Verbose -Debug
            Remove-KsctlCredential Civo -Force -PassThru -Verbose
            """, errors);

        // The lifecycle ran (so the secrets were there to leak): the kubeconfig was merged (Switch's -PassThru), the
        // cluster is gone, and Remove-KsctlCluster took the entries it had merged out of the kubeconfig again.
        Assert.Contains("kind-leaky", text);
        Assert.DoesNotContain(ClientKeyData("leaky"), File.ReadAllText(session.Kubeconfig));
        Assert.Single(errors); // only Get-KsctlCluster nothere
        Assert.Contains("leaky", text);
        Assert.Contains("VERBOSE", text.ToUpperInvariant());
        Assert.Empty(session.RunClean("Get-KsctlCluster").Output);

        foreach (var planted in new[] { ClientKeyData("leaky"), CertificateData("leaky"), "leaky standin key", password, blob.KeyBase64, Storage.Tests.Harness.AzuriteInstance.AccountKey })
            Assert.False(text.Contains(planted, StringComparison.Ordinal), $"A stream contained a planted secret ({planted[..6]}…)");
    }

    [Fact]
    public void TwoOsProcesses_TheSecondGetsClusterLocked_NamingTheHolder_AndNothingIsLost()
    {
        using var session = new KsctlSession();
        using var blob = new BlobStoreEnvironment(fixture.Azurite);
        var gate = Path.Combine(session.Root, "kind-may-finish");

        // Process one: another OS process (ksctl-host) creates the cluster; its kind create waits at the gate, so
        // that process holds the cluster's lease while this one tries.
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) != "dotnet") start.FileName = "dotnet";
        foreach (var a in new[] { Paths.HostDll, "--module", Paths.Manifest, "-Command", "New-KsctlCluster twoproc -Provider Local -ErrorAction Stop" }) start.ArgumentList.Add(a);
        start.Environment["KIND_STANDIN_CREATE_GATE"] = gate;
        start.Environment["NO_COLOR"] = "1";
        using var first = Process.Start(start)!;
        var firstOut = first.StandardOutput.ReadToEndAsync();
        var firstErr = first.StandardError.ReadToEndAsync();
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (!File.Exists(session.KindLog) || !File.ReadAllText(session.KindLog).Contains("create cluster"))
            {
                if (first.HasExited) Assert.Fail($"the first process ended early: {firstErr.Result} {firstOut.Result}");
                Assert.True(DateTime.UtcNow < deadline, "the first process never reached kind create");
                Thread.Sleep(100);
            }
            Assert.Equal("Creating", (string)session.RunClean("Get-KsctlCluster twoproc").Single().Status);

            // Process two (this one): every state-changing operation is refused, naming the first process.
            foreach (var script in new[] { "Remove-KsctlCluster twoproc -Confirm:$false", "New-KsctlCluster twoproc -Provider Local" })
            {
                var refused = session.Run(script);
                var error = Assert.Single(refused.Errors);
                Assert.Equal("KsctlClusterLocked", error.FullyQualifiedErrorId.Split(',')[0]);
                Assert.Contains($"pid {first.Id} on {Environment.MachineName}", error.Exception.Message);
            }
        }
        finally
        {
            File.WriteAllText(gate, "");
            Assert.True(first.WaitForExit(90_000), "the first process did not finish");
        }
        Assert.True(first.ExitCode == 0, $"first process failed: {firstErr.Result} {firstOut.Result}");

        // Nothing lost: the first process's create completed, one kind create ran, and the lock is free again.
        Assert.Equal("Running", (string)session.RunClean("Get-KsctlCluster twoproc").Single().Status);
        Assert.Single(File.ReadAllLines(session.KindLog), l => l.StartsWith("create cluster"));
        session.RunClean("Remove-KsctlCluster twoproc -Confirm:$false");
        Assert.Empty(session.RunClean("Get-KsctlCluster").Output);
    }
}
