using System.Text.Json;
using System.Text.Json.Serialization;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Core.Storage;

/// <summary>The one JSON shape of a state document, shared by every store (so export/import is byte-for-byte).</summary>
public static class StateSerializer
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    public static byte[] Serialize(ClusterState state) => JsonSerializer.SerializeToUtf8Bytes(state, Options);

    /// <summary>Parses a document, refusing a newer schema. <paramref name="source"/> names it in errors.</summary>
    public static ClusterState Deserialize(ReadOnlySpan<byte> json, string source)
    {
        int version;
        try
        {
            var reader = new Utf8JsonReader(json);
            using var doc = JsonDocument.ParseValue(ref reader);
            version = doc.RootElement.TryGetProperty("schemaVersion", out var v) && v.TryGetInt32(out var n) ? n : 0;
        }
        catch (JsonException ex)
        {
            throw new StateCorruptException(source, ex.Message, ex);
        }
        if (version > ClusterState.CurrentSchemaVersion)
            throw new StateSchemaException(source, version, ClusterState.CurrentSchemaVersion);
        if (version < 1)
            throw new StateCorruptException(source, "it has no schemaVersion");
        try
        {
            return JsonSerializer.Deserialize<ClusterState>(json, Options)
                ?? throw new StateCorruptException(source, "the document is empty");
        }
        catch (JsonException ex)
        {
            throw new StateCorruptException(source, ex.Message, ex);
        }
    }
}
