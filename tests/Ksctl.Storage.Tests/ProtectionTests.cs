using System.Reflection;
using System.Security.Cryptography;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.AzureBlob;
using Ksctl.Core.Storage.Protection;
using Xunit;

namespace Ksctl.Storage.Tests;

public sealed class ProtectionTests
{
    [Fact]
    public void Protect_round_trips_with_a_fresh_nonce_per_value()
    {
        var key = StateKey.FromBase64(StateKey.Generate());
        var a = key.Protect("s3cret-value", "k3s-token");
        var b = key.Protect("s3cret-value", "k3s-token");
        Assert.StartsWith("ksctl-aesgcm:v1:", a);
        Assert.NotEqual(a, b);
        Assert.DoesNotContain("s3cret", a);
        // nonce (12) | ciphertext (len) | tag (16)
        Assert.Equal(12 + "s3cret-value".Length + 16, Convert.FromBase64String(a["ksctl-aesgcm:v1:".Length..]).Length);
        Assert.Equal("s3cret-value", key.Unprotect(a, "k3s-token"));
        Assert.Equal("", key.Unprotect(key.Protect("", "x"), "x"));
        Assert.True(key.IsProtected(a));
        Assert.False(key.IsProtected("plain"));
    }

    [Fact]
    public void Wrong_key_tampering_or_another_entry_is_KsctlStateKeyInvalid()
    {
        var key = StateKey.FromBase64(StateKey.Generate());
        var other = StateKey.FromBase64(StateKey.Generate());
        var value = key.Protect("token", "k3s-token");
        Assert.Equal("KsctlStateKeyInvalid", Assert.Throws<StateKeyInvalidException>(() => other.Unprotect(value, "k3s-token")).ErrorId);
        Assert.Throws<StateKeyInvalidException>(() => key.Unprotect(value, "kubeconfig")); // moved to another entry
        var bytes = Convert.FromBase64String(value["ksctl-aesgcm:v1:".Length..]);
        bytes[14] ^= 1;
        Assert.Throws<StateKeyInvalidException>(() => key.Unprotect("ksctl-aesgcm:v1:" + Convert.ToBase64String(bytes), "k3s-token"));
        Assert.Throws<StateKeyInvalidException>(() => key.Unprotect("ksctl-aesgcm:v1:!!", "k3s-token"));
        Assert.NotEqual(key.KeyId, other.KeyId);
    }

    [Fact]
    public void Keys_come_from_base64_raw_or_text_files_and_bad_keys_are_refused()
    {
        var raw = RandomNumberGenerator.GetBytes(32);
        var dir = Directory.CreateTempSubdirectory("ksctl-key-");
        try
        {
            var rawFile = Path.Combine(dir.FullName, "raw.key");
            File.WriteAllBytes(rawFile, raw);
            var textFile = Path.Combine(dir.FullName, "text.key");
            File.WriteAllText(textFile, Convert.ToBase64String(raw) + "\n");
            var fromRaw = StateKey.FromFile(rawFile);
            var fromText = StateKey.FromFile(textFile);
            Assert.Equal(fromRaw.KeyId, fromText.KeyId);
            Assert.Equal("v", fromText.Unprotect(fromRaw.Protect("v", "n"), "n"));
            Assert.Equal(fromRaw.KeyId, StateKey.Resolve(textFile)!.KeyId);

            var created = StateKey.CreateKeyFile(Path.Combine(dir.FullName, "new.key"));
            Assert.Equal(created.KeyId, StateKey.FromFile(Path.Combine(dir.FullName, "new.key")).KeyId);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir.FullName, "new.key")));

            Assert.Equal("KsctlStateKeyInvalid", Assert.Throws<StateKeyInvalidException>(() => StateKey.FromBase64(Convert.ToBase64String(new byte[16]))).ErrorId);
            Assert.Throws<StateKeyInvalidException>(() => StateKey.FromBase64("not base64 !"));
            Assert.Throws<StateKeyInvalidException>(() => StateKey.FromFile(Path.Combine(dir.FullName, "absent.key")));
        }
        finally { dir.Delete(recursive: true); }
    }

    [Theory]
    [InlineData("azure/selfmanaged/demo eastus/state.json", true)]
    [InlineData("local/managed/kind-1 LOCAL/state.json", true)]
    [InlineData("azure/selfmanaged/demo eastus/lock", false)]
    [InlineData("Azure/selfmanaged/demo eastus/state.json", false)]
    [InlineData("nope/managed/demo eastus/state.json", false)]
    [InlineData("azure/other/demo eastus/state.json", false)]
    [InlineData("azure/managed/demo/state.json", false)]
    public void Document_names_parse_back_to_cluster_ids(string name, bool valid)
    {
        var id = AzureBlobStateStore.TryParseDocumentName(name);
        Assert.Equal(valid, id is not null);
        if (id is not null) Assert.Equal(name, AzureBlobStateStore.DocumentBlobName(id));
    }

    [Theory]
    [InlineData("https://acct.blob.core.windows.net", "ksctl", "https://acct.blob.core.windows.net/ksctl")]
    [InlineData("https://acct.blob.core.windows.net/state", null, "https://acct.blob.core.windows.net/state")]
    [InlineData("https://acct.blob.core.windows.net/state/", "state", "https://acct.blob.core.windows.net/state")]
    [InlineData("http://127.0.0.1:10000/devstoreaccount1", "ksctl", "http://127.0.0.1:10000/devstoreaccount1/ksctl")]
    [InlineData("http://127.0.0.1:10000/devstoreaccount1/st", null, "http://127.0.0.1:10000/devstoreaccount1/st")]
    public void Container_uri_comes_from_the_uri_or_the_parameter(string uri, string? container, string expected)
    {
        Assert.Equal(expected, AzureBlobStateStore.ContainerUri(new Uri(uri), container).AbsoluteUri.TrimEnd('/'));
        if (uri.StartsWith("https:", StringComparison.Ordinal))
            Assert.Equal($"AzureBlob: {expected}", AzureBlobStateStore.FromUri(new Uri(uri), container).Description);
        else
            Assert.Throws<InvalidSpecException>(() => AzureBlobStateStore.FromUri(new Uri(uri), container));
    }

    [Fact]
    public void Bad_store_addresses_are_InvalidSpec()
    {
        Assert.Throws<InvalidSpecException>(() => AzureBlobStateStore.FromUri(new Uri("https://acct.blob.core.windows.net"), null));
        Assert.Throws<InvalidSpecException>(() => AzureBlobStateStore.FromUri(new Uri("https://acct.blob.core.windows.net/a"), "b"));
        Assert.Throws<InvalidSpecException>(() => AzureBlobStateStore.FromUri(new Uri("https://acct.blob.core.windows.net/a/blob"), null));
        Assert.Throws<InvalidSpecException>(() => AzureBlobStateStore.FromConnectionString("not a connection string", "c"));
        var sas = AzureBlobStateStore.FromUri(new Uri("https://acct.blob.core.windows.net/st?sv=2024&sig=abc"), null);
        Assert.DoesNotContain("sig=", sas.Description);
    }

    [Theory]
    [InlineData("DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;BlobEndpoint=http://10.20.30.40:10000/a;", false)]
    [InlineData("DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;BlobEndpoint=http://storage.example.com/a;", false)]
    [InlineData("DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;", false)]
    [InlineData("DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/a;", true)]
    [InlineData("DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;BlobEndpoint=http://localhost:10000/a;", true)]
    [InlineData("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=a2V5;BlobEndpoint=https://storage.example.com/a;", true)]
    [InlineData("UseDevelopmentStorage=true", true)]
    public void A_state_store_endpoint_must_be_https_except_on_loopback(string connectionString, bool allowed)
    {
        if (allowed) Assert.NotNull(AzureBlobStateStore.FromConnectionString(connectionString, "c"));
        else
        {
            var ex = Assert.Throws<InvalidSpecException>(() => AzureBlobStateStore.FromConnectionString(connectionString, "c"));
            Assert.Equal("ConnectionString", ex.Parameter);
            Assert.Contains("not https", ex.Message);
        }
        // A SAS Uri over plain http to another host is refused the same way.
        Assert.Throws<InvalidSpecException>(() => AzureBlobStateStore.FromUri(new Uri("http://acct.example.com/st?sv=2024&sig=abc"), null));
    }

    [Fact]
    public void Public_storage_api_exposes_no_Azure_types()
    {
        var core = typeof(IStateStore).Assembly;
        var offenders = new List<string>();
        foreach (var type in core.GetExportedTypes().Where(t => t.Namespace?.StartsWith("Ksctl.Core.Storage", StringComparison.Ordinal) == true))
        {
            if (type.BaseType is { } b && IsForeign(b)) offenders.Add($"{type} : {b}");
            offenders.AddRange(type.GetInterfaces().Where(IsForeign).Select(i => $"{type} : {i}"));
            foreach (var member in type.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                IEnumerable<Type> types = member switch
                {
                    MethodInfo m => m.GetParameters().Select(p => p.ParameterType).Append(m.ReturnType),
                    ConstructorInfo c => c.GetParameters().Select(p => p.ParameterType),
                    PropertyInfo p => [p.PropertyType],
                    FieldInfo f => [f.FieldType],
                    EventInfo e => [e.EventHandlerType!],
                    _ => [],
                };
                offenders.AddRange(types.Where(IsForeign).Select(t => $"{type}.{member.Name}: {t}"));
            }
        }
        Assert.Empty(offenders);

        static bool IsForeign(Type t)
        {
            if (t.HasElementType) return IsForeign(t.GetElementType()!);
            if (t.IsGenericType && t.GetGenericArguments().Any(IsForeign)) return true;
            var assembly = t.Assembly.GetName().Name ?? "";
            return assembly.StartsWith("Azure", StringComparison.Ordinal) || assembly.StartsWith("Microsoft.Extensions", StringComparison.Ordinal);
        }
    }
}
