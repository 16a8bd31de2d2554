using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Engine;

/// <summary>What a running step sees: the cluster's live state and a logger scoped to the cluster and step.</summary>
public sealed class StepContext
{
    internal StepContext(StateSession session, PlanStep step, ILogger logger)
    {
        Session = session;
        Step = step;
        Logger = logger;
    }

    public StateSession Session { get; }
    public PlanStep Step { get; }
    public ClusterState State => Session.State;
    public void Mutate(Action<ClusterState> change) => Session.Mutate(change);

    internal ILogger Logger { get; }
}
