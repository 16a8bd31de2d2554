using Ksctl.Core.Model;

namespace Ksctl.Core.Engine;

/// <summary>A DAG of named steps for one operation on one cluster. Its shape is data: tests assert on it.</summary>
public sealed class Plan
{
    public Plan(string operation, ClusterId cluster, IEnumerable<PlanStep> steps)
    {
        Operation = operation;
        Cluster = cluster;
        Steps = steps.ToList();
        Validate();
    }

    /// <summary>"create", "delete", "resize"...; prefixes the step records in state.</summary>
    public string Operation { get; }
    public ClusterId Cluster { get; }
    public IReadOnlyList<PlanStep> Steps { get; }

    public PlanStep this[string name] => Steps.First(s => s.Name == name);

    /// <summary>The key under which a step's checkpoint is kept in <see cref="ClusterState.Steps"/>.</summary>
    public string RecordKey(PlanStep step) => $"{Operation}/{step.Name}";

    /// <summary>Steps in an order where every step follows its dependencies (stable: ties keep declaration order).</summary>
    public IReadOnlyList<PlanStep> TopologicalOrder()
    {
        var done = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<PlanStep>(Steps.Count);
        while (result.Count < Steps.Count)
        {
            foreach (var s in Steps)
            {
                if (done.Contains(s.Name) || !s.DependsOn.All(done.Contains)) continue;
                result.Add(s);
                done.Add(s.Name);
            }
        }
        return result;
    }

    /// <summary>Human-readable plan for -WhatIf: one line per step with its dependencies and resources.</summary>
    public string Render()
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine($"Plan: {Operation} {Cluster} — {Steps.Count} step(s)");
        var i = 0;
        foreach (var s in TopologicalOrder())
        {
            sb.Append($"  {++i,3}. {s.Name}");
            if (s.Description.Length > 0) sb.Append($": {s.Description}");
            if (s.DependsOn.Count > 0) sb.Append($"  [after {string.Join(", ", s.DependsOn)}]");
            sb.AppendLine();
            foreach (var r in s.Resources) sb.AppendLine($"         + {r}");
        }
        return sb.ToString().TrimEnd();
    }

    private void Validate()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in Steps)
            if (!names.Add(s.Name)) throw new ArgumentException($"Plan '{Operation}' has two steps named '{s.Name}'.");
        foreach (var s in Steps)
            foreach (var d in s.DependsOn)
                if (!names.Contains(d)) throw new ArgumentException($"Step '{s.Name}' depends on unknown step '{d}'.");
        // Cycle check: Kahn's algorithm must consume every step.
        var indegree = Steps.ToDictionary(s => s.Name, s => s.DependsOn.Count, StringComparer.Ordinal);
        var dependents = Steps.SelectMany(s => s.DependsOn.Select(d => (d, s.Name))).ToLookup(p => p.d, p => p.Name);
        var ready = new Queue<string>(indegree.Where(p => p.Value == 0).Select(p => p.Key));
        var seen = 0;
        while (ready.Count > 0)
        {
            var n = ready.Dequeue();
            seen++;
            foreach (var m in dependents[n])
                if (--indegree[m] == 0) ready.Enqueue(m);
        }
        if (seen != Steps.Count) throw new ArgumentException($"Plan '{Operation}' has a dependency cycle.");
    }
}
