namespace Ksctl.Core.Model;

/// <summary>What the reconciler last found and did for a cluster that opted in (<see cref="ClusterSpec.Reconcile"/>).</summary>
public sealed class ReconcileStatus
{
    /// <summary>Idle, Waiting (backing off), GaveUp, Healthy, Degraded.</summary>
    public string State { get; set; } = "Idle";
    /// <summary>Failed attempts at resuming the current interrupted operation (reset when one succeeds).</summary>
    public int Attempts { get; set; }
    public DateTimeOffset? NextAttemptAt { get; set; }
    public DateTimeOffset? LastRoundAt { get; set; }
    public string? LastAction { get; set; }
    /// <summary>Why the cluster is Degraded (empty when healthy or unknown).</summary>
    public List<string> HealthReasons { get; set; } = new();
    /// <summary>Differences between the recorded state and what the spec wants (missing or extra workers...).</summary>
    public List<string> Drift { get; set; } = new();
    /// <summary>The reconciler's own log for this cluster, newest last, at most <see cref="MaxLog"/> lines.</summary>
    public List<string> Log { get; set; } = new();

    /// <summary>Workers (node keys) a repair is replacing; kept until it succeeds, so a failed repair is resumed for the same ones.</summary>
    public List<string> Replacing { get; set; } = new();

    public const int MaxLog = 20;

    public void Append(DateTimeOffset at, string message)
    {
        Log.Add($"{at:O} {message}");
        if (Log.Count > MaxLog) Log.RemoveRange(0, Log.Count - MaxLog);
    }
}
