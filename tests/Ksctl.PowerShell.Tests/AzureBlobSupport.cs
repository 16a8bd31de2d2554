using System.Management.Automation;
using System.Security.Cryptography;
using System.Text;
using Azure.Storage.Blobs;
using Ksctl.Storage.Tests.Harness;
using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>One Azurite for a test class.</summary>
public sealed class AzuriteFixture : IDisposable
{
    public AzuriteInstance Azurite { get; } = AzuriteInstance.Start();
    public void Dispose() => Azurite.Dispose();
}

/// <summary>
/// Selects the AzureBlob store for everything the session runs, the way a runbook does: KSCTL_STATE_* variables and
/// a state key in KSCTL_STATE_KEY. Each instance has its own container. Restores the variables when disposed.
/// </summary>
public sealed class BlobStoreEnvironment : IDisposable
{
    public static readonly string[] Variables =
        ["KSCTL_STATE_STORE", "KSCTL_STATE_ACCOUNT_URI", "KSCTL_STATE_CONTAINER", "KSCTL_STATE_CONNECTION_STRING", "KSCTL_STATE_KEY", "KSCTL_STATE_KEY_FILE"];
    private readonly Dictionary<string, string?> _saved = Variables.ToDictionary(v => v, Environment.GetEnvironmentVariable);

    public BlobStoreEnvironment(AzuriteInstance azurite, string? container = null)
    {
        ConnectionString = azurite.ConnectionString;
        Container = container ?? "ksctl-" + Guid.NewGuid().ToString("N")[..12];
        Key = RandomNumberGenerator.GetBytes(32);
        Apply();
    }

    public string ConnectionString { get; }
    public string Container { get; }
    public byte[] Key { get; }
    public string KeyBase64 => Convert.ToBase64String(Key);

    public void Apply()
    {
        foreach (var v in Variables) Environment.SetEnvironmentVariable(v, null);
        Environment.SetEnvironmentVariable("KSCTL_STATE_STORE", "AzureBlob");
        Environment.SetEnvironmentVariable("KSCTL_STATE_CONNECTION_STRING", ConnectionString);
        Environment.SetEnvironmentVariable("KSCTL_STATE_CONTAINER", Container);
        Environment.SetEnvironmentVariable("KSCTL_STATE_KEY", KeyBase64);
    }

    /// <summary>Back to the file store of the session (the key stays unset too).</summary>
    public static void Clear()
    {
        foreach (var v in Variables) Environment.SetEnvironmentVariable(v, null);
    }

    public BlobContainerClient Client => new(ConnectionString, Container);

    /// <summary>Every blob of the container, raw bytes as stored.</summary>
    public Dictionary<string, byte[]> RawBlobs()
    {
        var client = Client;
        if (!client.Exists().Value) return new();
        return client.GetBlobs().ToDictionary(b => b.Name, b => client.GetBlobClient(b.Name).DownloadContent().Value.Content.ToArray());
    }

    /// <summary>Decrypts a <c>ksctl-aesgcm:v1:</c> value independently of Ksctl (nonce | ciphertext | tag, purpose as associated data).</summary>
    public string Decrypt(string value, string purpose)
    {
        const string prefix = "ksctl-aesgcm:v1:";
        Assert.StartsWith(prefix, value);
        var data = Convert.FromBase64String(value[prefix.Length..]);
        var plain = new byte[data.Length - 28];
        using var aes = new AesGcm(Key, 16);
        aes.Decrypt(data.AsSpan(0, 12), data.AsSpan(12, plain.Length), data.AsSpan(12 + plain.Length, 16), plain, Encoding.UTF8.GetBytes(purpose));
        return Encoding.UTF8.GetString(plain);
    }

    public void Dispose()
    {
        foreach (var (k, v) in _saved) Environment.SetEnvironmentVariable(k, v);
    }
}

/// <summary>Everything a script wrote, on every stream, as text.</summary>
public static class AllStreams
{
    public static string Capture(KsctlSession session, string script, List<ErrorRecord>? errors = null)
    {
        session.Host.Clear();
        using var ps = System.Management.Automation.PowerShell.Create(session.Runspace);
        ps.AddScript("$VerbosePreference = 'Continue'; $DebugPreference = 'Continue'; $InformationPreference = 'Continue'; $WarningPreference = 'Continue'; $ProgressPreference = 'Continue'\n" + script);
        var output = ps.Invoke();
        var text = new StringBuilder();
        foreach (var o in output) Describe(o, text, 0);
        foreach (var e in ps.Streams.Error)
        {
            errors?.Add(e);
            text.AppendLine(e.ToString()).AppendLine(e.Exception?.ToString()).AppendLine(e.FullyQualifiedErrorId)
                .AppendLine(e.TargetObject?.ToString()).AppendLine(e.ErrorDetails?.Message).AppendLine(e.ErrorDetails?.RecommendedAction)
                .AppendLine(e.CategoryInfo.ToString()).AppendLine(e.InvocationInfo?.PositionMessage);
        }
        foreach (var v in ps.Streams.Verbose) text.AppendLine(v.Message);
        foreach (var d in ps.Streams.Debug) text.AppendLine(d.Message);
        foreach (var w in ps.Streams.Warning) text.AppendLine(w.Message);
        foreach (var i in ps.Streams.Information) { text.AppendLine(i.MessageData?.ToString()); foreach (var tag in i.Tags) text.AppendLine(tag); }
        foreach (var p in ps.Streams.Progress) text.AppendLine(p.Activity).AppendLine(p.StatusDescription).AppendLine(p.CurrentOperation);
        text.AppendLine(session.Host.Text);
        return text.ToString();
    }

    private static void Describe(object? value, StringBuilder text, int depth)
    {
        if (value is null || depth > 4) return;
        if (value is PSObject pso)
        {
            text.AppendLine(pso.ToString());
            if (pso.BaseObject is string or ValueType) return;
            foreach (var p in pso.Properties)
            {
                object? v;
                try { v = p.Value; } catch (Exception) { continue; }
                text.Append(p.Name).Append('=');
                if (v is System.Collections.IEnumerable list and not string)
                    foreach (var item in list) Describe(PSObject.AsPSObject(item), text, depth + 1);
                else if (v is not null) Describe(PSObject.AsPSObject(v), text, depth + 1);
                text.AppendLine();
            }
            return;
        }
        Describe(PSObject.AsPSObject(value), text, depth);
    }
}
