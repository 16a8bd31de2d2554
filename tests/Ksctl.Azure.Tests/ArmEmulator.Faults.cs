namespace Ksctl.Azure.Tests;

/// <summary>
/// Faults on demand, each the way ARM produces it: throttling and server errors (429 with Retry-After, 500), a refused
/// PUT with a given ARM error, a creation whose answer is lost, long-running operations that end Failed (on creation, on
/// the re-PUT of a failed resource, or on deletion), and NICs that collide in one subnet.
/// </summary>
public sealed partial class ArmEmulator
{
    /// <summary>That fraction of the following ARM requests fail (evenly spread, deterministic), cycling through <see cref="FaultStatuses"/>.</summary>
    public void FailFraction(double fraction)
    {
        lock (_gate) { _faultFraction = fraction; _faultCredit = 0; }
    }

    /// <summary>The next PUT of that resource type ("Microsoft.ContainerService/managedClusters") is refused with this ARM error.</summary>
    public void RefuseNextPut(string type, int status, string code, string message)
    {
        lock (_gate) _putErrors.Add((type, status, code, message));
    }

    /// <summary>The next creation of that type is applied, but its answer is lost (500): the client cannot know it worked.</summary>
    public void LoseNextCreateResponse(string type)
    {
        lock (_gate) _lostResponses.Add(type);
    }

    private readonly List<string> _lostResponses = [];

    /// <summary>The next creation (or re-PUT of a failed one) of that type is accepted, then its operation ends Failed with this error.</summary>
    public void FailNextOperation(string type, string code, string message)
    {
        lock (_gate) _operationFailures.Add((type, code, message));
    }

    /// <summary>The next deletion of that type is accepted, then its operation ends Failed with this error (the resource stays).</summary>
    public void FailNextDelete(string type, string code, string message)
    {
        lock (_gate) _deleteFailures.Add((type, code, message));
    }

    private readonly List<(string Type, string Code, string Message)> _deleteFailures = [];

    /// <summary>
    /// The failure a test asked for (<see cref="FailNextOperation"/>), else, for a NIC while another NIC of the same subnet
    /// is still being provisioned and <see cref="SubnetContention"/> allows, Network's AnotherOperationInProgress.
    /// </summary>
    private void InjectFailure(Operation op, Resource resource)
    {
        var failure = _operationFailures.FindIndex(f => f.Type.Equals(resource.Type, StringComparison.OrdinalIgnoreCase));
        if (failure >= 0)
        {
            op.Error = (_operationFailures[failure].Code, _operationFailures[failure].Message);
            _operationFailures.RemoveAt(failure);
            return;
        }
        if (resource.Type != "Microsoft.Network/networkInterfaces" || SubnetContention <= 0) return;
        var subnet = SubnetOf(resource);
        var busy = _resources.Values.FirstOrDefault(r => r.Id != resource.Id && r.Type == resource.Type && SubnetOf(r) == subnet
            && r.Operation is { } o && _operations.TryGetValue(o, out var other) && !other.Delete && other.Status == "InProgress");
        if (busy is null) return;
        SubnetContention--;
        ContentionFailures++;
        op.Error = ("AnotherOperationInProgress", $"Another operation on this or dependent resource is in progress. To retrieve status of the operation use uri: {BaseUrl}subscriptions/{Subscription}/providers/Microsoft.Network/locations/eastus/operations/{busy.Operation}.");
    }

    private static string? SubnetOf(Resource nic) =>
        nic.Body["properties"]?["ipConfigurations"]?[0]?["properties"]?["subnet"]?["id"]?.GetValue<string>()?.ToLowerInvariant();

    /// <summary>
    /// Where the URLs the emulator hands out (Azure-AsyncOperation, Location, nextLink) point; null: itself. A hostile
    /// or compromised answer would point them elsewhere, to collect the bearer token the client attaches.
    /// </summary>
    public Uri? LinkBase { get; set; }
}
