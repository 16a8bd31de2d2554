namespace Ksctl.Gcp.Tests;

/// <summary>
/// The requestId memory of Compute's inserts and deletes. Source: the Compute Engine API v1 discovery document
/// (compute/v1/compute-api.json, as published at compute.googleapis.com/$discovery/rest?version=v1 and vendored in
/// googleapis/google-api-go-client), every mutating method's requestId parameter: "The
/// server will guarantee that for at least 60 minutes after the first request"; "The request ID must be a valid UUID
/// with the exception that zero UUID is not supported".
/// </summary>
public sealed partial class GcpEmulator
{
    private readonly Dictionary<string, (string Operation, DateTimeOffset At)> _requestIds = new(StringComparer.Ordinal);

    /// <summary>
    /// How long a requestId is remembered: compute-api.json's requestId "The server will guarantee that for at least 60
    /// minutes after the first request"; the emulator forgets it then (the strictest the guarantee allows).
    /// </summary>
    public static readonly TimeSpan RequestIdMemory = TimeSpan.FromMinutes(60);
    /// <summary>The emulator's clock (for the requestId memory): tests move it instead of waiting an hour.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>The operation an earlier request with this requestId started, while it is remembered (caller holds the gate).</summary>
    private bool RememberedRequest(string requestId, out string operation)
    {
        operation = "";
        if (requestId.Length == 0 || !_requestIds.TryGetValue(requestId, out var earlier)) return false;
        if (Clock.GetUtcNow() - earlier.At >= RequestIdMemory) { _requestIds.Remove(requestId); return false; }
        operation = earlier.Operation;
        return true;
    }
}
