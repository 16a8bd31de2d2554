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
            version = ReadSchemaVersion(json);
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
        // Besides malformed JSON: invalid UTF-8, duplicate dictionary keys, values out of a type's range.
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException or FormatException or OverflowException or NotSupportedException)
        {
            throw new StateCorruptException(source, ex.Message, ex);
        }
    }

    /// <summary>
    /// The top-level schemaVersion (0 when absent), found with a forward-only reader: no DOM and no copy of the
    /// document (listing thousands of clusters parsed every document twice). Throws JsonException unless the
    /// document is a JSON object.
    /// </summary>
    private static int ReadSchemaVersion(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("the document is not a JSON object.");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isVersion = reader.ValueTextEquals("schemaVersion"u8);
            reader.Read();
            if (isVersion) return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var n) ? n : 0;
            reader.Skip();
        }
        return 0;
    }
}
