using Ksctl.Core.Reconcile;
using Ksctl.Server.Hosting;

namespace Ksctl.Server.Operations;

/// <summary>
/// Schedules reconcile rounds (every <see cref="ServerOptions.ReconcileIntervalSeconds"/>; 0 turns the loop off). The
/// decisions are Core's (<see cref="ClusterReconciler"/>): the server only runs rounds. The health probe is whatever
/// <see cref="IClusterHealthProbe"/> the host registers, else Core's live checks (<see cref="LiveHealthProbe"/>, those of Test-KsctlCluster).
/// </summary>
internal sealed class ReconcilerService(ServerContext server, ServerOptions options, TimeProvider time, ILogger<ReconcilerService> logger, IServiceProvider services, OperationRegistry operations)
    : BackgroundService
{
    public IReadOnlyList<ReconcileOutcome> LastRound { get; private set; } = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.ReconcileIntervalSeconds <= 0) return;
        // Rounds are cut from the clock by the interval, the same on every replica: a cluster is reconciled once a round, by one of them.
        var reconciler = new ClusterReconciler(server.Manager, time, ReconcilePolicy.Default, services.GetService<IClusterHealthProbe>() ?? new LiveHealthProbe(server.Manager), operations)
        {
            RoundLength = TimeSpan.FromSeconds(options.ReconcileIntervalSeconds),
        };
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.ReconcileIntervalSeconds), time);
        do
        {
            try
            {
                LastRound = await reconciler.RunRoundAsync(stoppingToken);
                foreach (var o in LastRound.Where(o => o.Result is not "Nothing" and not "Skipped"))
                    logger.LogInformation("Reconcile {Cluster}: {Action} -> {Result} ({Detail}) in round {Round}", o.Cluster, o.Action, o.Result, o.Detail, o.Round);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "A reconcile round failed; the next one runs on schedule.");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
