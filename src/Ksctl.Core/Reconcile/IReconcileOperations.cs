using Ksctl.Core.Clusters;
using Ksctl.Core.Model;

namespace Ksctl.Core.Reconcile;

/// <summary>
/// How the reconciler runs an operation it decided on (resume, resize, repair): a host records it as one of its
/// operations (the server: GET /api/v1/operations, with its steps and SSE stream), then runs <paramref name="work"/>
/// with a manager whose events feed that record. Must run the work to its end and let its exception (a
/// KsctlException, a ClusterLockedException) reach the caller unchanged: the reconciler backs off on it.
/// </summary>
public interface IReconcileOperations
{
    Task RunAsync(string kind, ClusterId cluster, Func<ClusterManager, CancellationToken, Task> work, CancellationToken cancellationToken);
}
