using System.Text.Json;
using System.Text.Json.Serialization;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Core.Storage.Credentials;

/// <summary>The stored JSON shape of one credential (<c>credentials/&lt;provider&gt;.json</c>).</summary>
internal sealed class CredentialDocument
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; set; } = CurrentSchemaVersion;
    public CloudProvider Provider { get; set; }
    public string UserName { get; set; } = "";
    /// <summary>Plaintext in the file store (0600 file), <c>ksctl-aesgcm:v1:…</c> in a shared store.</summary>
    public string Secret { get; set; } = "";
    public string? TenantId { get; set; }
    public string? SubscriptionId { get; set; }
    public string? Region { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    public static CredentialDocument Parse(byte[] bytes, string source)
    {
        try
        {
            var doc = JsonSerializer.Deserialize<CredentialDocument>(bytes, Options) ?? throw new JsonException("the document is empty");
            if (doc.SchemaVersion > CurrentSchemaVersion)
                throw new KsctlException("KsctlStateSchemaTooNew", KsctlErrorCategory.InvalidData,
                    $"The credential '{source}' has schema version {doc.SchemaVersion}; this Ksctl reads up to {CurrentSchemaVersion}. Update Ksctl.", source);
            return doc;
        }
        catch (JsonException ex)
        {
            throw new KsctlException("KsctlStateCorrupt", KsctlErrorCategory.InvalidData, $"The credential '{source}' is not valid: {ex.Message}", source, ex);
        }
    }

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Options);
}
