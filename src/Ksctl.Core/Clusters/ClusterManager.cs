using System.Runtime.CompilerServices;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Ksctl.Core.Processes;
using Ksctl.Core.Providers;
using Ksctl.Core.Storage;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Clusters;

/// <summary>
/// The use cases: create, get, list, import here; delete and resize in ClusterManager.Changes.cs, kubeconfigs in
/// ClusterManager.Kubeconfig.cs. Validates before touching anything, composes providers (and
/// distributions) into plans, runs them under the cluster's lock and keeps the status machine. The public
/// surface uses Core and BCL types only: it is what the cmdlets call across the assembly-isolation bridge.
/// </summary>
public sealed partial class ClusterManager : IDisposable
{
    private readonly KsctlServices _services;
    private readonly ProviderRegistry _providers;
    private readonly PlanComposer _composer;
    private readonly ILogger _logger;
    private readonly ILoggerFactory? _ownedLoggers;
    private readonly IProgress<KsctlEvent>? _events;
    private readonly StoredStateRules _stored;

    /// <summary>Builds a manager on the configured store; log events go to <paramref name="events"/> and the log folder.</summary>
    public ClusterManager(KsctlSettings settings, IProgress<KsctlEvent>? events = null)
    {
        _ownedLoggers = LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(LogLevel.Debug);
            if (events is not null) b.AddProvider(new EventLoggerProvider(events));
            b.AddProvider(new FileLoggerProvider(settings.LogPath));
        });
        _events = events;
        _services = new KsctlServices(settings, _ownedLoggers, new ProcessRunner(), TimeProvider.System);
        // Stored credentials live in the store, which is built below; providers ask for them only when they run.
        _providers = ProviderRegistry.CreateDefault(_services, (provider, ct) => Credentials.GetAsync(provider, ct));
        _composer = new PlanComposer(_providers, _services);
        _stored = new StoredStateRules(_providers);
        Store = CreateStore(settings, events);
        _logger = _ownedLoggers.CreateLogger<ClusterManager>();
    }

    internal ClusterManager(KsctlServices services, ProviderRegistry providers, IStateStore store, IProgress<KsctlEvent>? events = null)
    {
        _events = events;
        _services = services;
        _providers = providers;
        _composer = new PlanComposer(providers, services);
        _stored = new StoredStateRules(providers);
        Store = store;
        _logger = services.Loggers.CreateLogger<ClusterManager>();
    }

    public IStateStore Store { get; }

    /// <summary>Cloud credentials kept beside the state in the active store.</summary>
    public Storage.Credentials.CredentialStore Credentials => _credentials ??= Storage.Credentials.CredentialStore.For(Store, _services.Time);
    private Storage.Credentials.CredentialStore? _credentials;
    public KsctlSettings Settings => _services.Settings;

    /// <summary>
    /// The store the settings select. AzureBlob: the connection string (environment, else decrypted from config.json)
    /// when there is one, else <see cref="KsctlSettings.StorageAccountUri"/> signed in with DefaultAzureCredential.
    /// </summary>
    public static IStateStore CreateStore(KsctlSettings settings, IProgress<KsctlEvent>? events = null) => settings.StateStore switch
    {
        StateStoreKind.File => new FileStateStore(settings.StatePath),
        StateStoreKind.AzureBlob => CreateBlobStore(settings, events),
        _ => throw new KsctlException("KsctlConfigurationInvalid", KsctlErrorCategory.InvalidData, $"Unknown state store '{settings.StateStore}'."),
    };

    private static IStateStore CreateBlobStore(KsctlSettings settings, IProgress<KsctlEvent>? events)
    {
        var options = new Storage.AzureBlob.AzureBlobStateStoreOptions { StateKeyPath = settings.StateKeyPath, Events = events };
        if (settings.ResolveConnectionString() is { } connectionString)
        {
            if (string.IsNullOrWhiteSpace(settings.Container))
                throw new KsctlException("KsctlConfigurationInvalid", KsctlErrorCategory.InvalidData,
                    $"The AzureBlob state store needs a container: Set-KsctlConfiguration -Container, or {KsctlSettings.ContainerVariable}.", "Container");
            return Storage.AzureBlob.AzureBlobStateStore.FromConnectionString(connectionString, settings.Container, options);
        }
        // A SAS kept in plaintext in config.json (written by an older Ksctl) is not used: it must be re-entered encrypted.
        if (!settings.EnvironmentOverrides.Contains(KsctlSettings.AccountUriVariable) && KsctlSettings.StoredAccountUriProblem(settings.StorageAccountUri) is { } stored)
            throw new KsctlException("KsctlConfigurationInvalid", KsctlErrorCategory.SecurityError,
                $"The storage account Uri saved in {settings.ConfigPath} is not used: {stored}. Run Set-KsctlConfiguration again.", "StorageAccountUri");
        if (string.IsNullOrWhiteSpace(settings.StorageAccountUri) || !Uri.TryCreate(settings.StorageAccountUri, UriKind.Absolute, out var uri))
            throw new KsctlException("KsctlConfigurationInvalid", KsctlErrorCategory.InvalidData,
                $"The AzureBlob state store needs a storage account: Set-KsctlConfiguration -StorageAccountUri (or -ConnectionString), " +
                $"or {KsctlSettings.AccountUriVariable} / {KsctlSettings.ConnectionStringVariable}.", "StorageAccountUri");
        return Storage.AzureBlob.AzureBlobStateStore.FromUri(uri, settings.Container, options);
    }

    /// <summary>What each registered provider offers (for completion and validation messages).</summary>
    public IReadOnlyList<ProviderDescriptor> Providers => _providers.All.Select(p => p.Descriptor).ToList();

    /// <summary>The provider's live region/size catalogue, or null when it has none (Tab completion then uses <see cref="Providers"/>).</summary>
    public ILiveCatalog? LiveCatalog(CloudProvider provider) => _providers.All.FirstOrDefault(p => p.Descriptor.Provider == provider) as ILiveCatalog;

    /// <summary>Validates the spec and fills defaults. Throws <see cref="InvalidSpecException"/>; touches nothing.</summary>
    public ClusterSpec Prepare(ClusterSpec spec)
    {
        var provider = _providers.Get(spec.Id.Provider);
        if (!ClusterId.IsValidName(spec.Id.Name)) throw new InvalidSpecException("Name", $"'{spec.Id.Name}' is not a valid cluster name; use {ClusterId.NameRule}.");
        if (!provider.Descriptor.SupportedTypes.Contains(spec.Id.Type))
            throw new InvalidSpecException("Type", $"the {spec.Id.Provider} provider offers {string.Join(" and ", provider.Descriptor.SupportedTypes)} clusters, not {spec.Id.Type}.");
        // Every field's type and pattern first, whatever the provider checks after (nothing hostile reaches it).
        SpecRules.Fields(spec);
        var prepared = provider.Prepare(spec);
        if (prepared.Id.Type == ClusterType.SelfManaged) Distributions.DistributionSpecRules.Check(prepared);
        return prepared;
    }

    /// <summary>A state just read, checked before anything uses it (<see cref="StoredStateRules"/>); null stays null.</summary>
    private ClusterState? Checked(ClusterState? state)
    {
        if (state is not null) _stored.Check(state, Store.Description);
        return state;
    }

    /// <summary>The create plan for -WhatIf: validated, nothing touched. Steps already done by an earlier attempt are marked by <see cref="Plan.Render"/>.</summary>
    public async Task<(Plan Plan, ClusterState? Existing)> PlanCreateAsync(ClusterSpec spec, CancellationToken cancellationToken)
    {
        var prepared = Prepare(spec);
        var existing = Checked(await Store.ReadAsync(prepared.Id, cancellationToken).ConfigureAwait(false));
        if (existing is not null) await EnsureAllowedAsync(existing, ClusterOperation.Create, lockHeld: false, cancellationToken).ConfigureAwait(false);
        await using var build = _composer.Create(existing?.Spec ?? prepared, OperationOptions.Default);
        return (build.Plan, existing);
    }

    public async Task<ClusterState> CreateAsync(ClusterSpec spec, OperationOptions options, CancellationToken cancellationToken)
    {
        var prepared = Prepare(spec);
        var provider = _providers.Get(prepared.Id.Provider, options.Credential);
        // Prerequisites (a CLI, credentials) are checked before any state exists: a failure here changes nothing.
        if (provider is IPreflightProvider preflight) await preflight.PreflightAsync(prepared, cancellationToken).ConfigureAwait(false);

        await using var clusterLock = await Store.AcquireLockAsync(prepared.Id, "create", options.BreakStaleLock, cancellationToken).ConfigureAwait(false);
        // Resuming drives requests and scripts from the recorded spec: it is checked like a new one.
        var existing = Checked(await Store.ReadAsync(prepared.Id, cancellationToken).ConfigureAwait(false));
        ClusterState state;
        if (existing is null)
        {
            var now = _services.Time.GetUtcNow();
            state = new ClusterState { Id = prepared.Id, Spec = prepared, CreatedAt = now, UpdatedAt = now };
        }
        else
        {
            await EnsureAllowedAsync(existing, ClusterOperation.Create, lockHeld: true, cancellationToken).ConfigureAwait(false);
            if (!SameSpec(existing.Spec, prepared))
                _logger.LogWarning("Resuming {Cluster} with the spec recorded when it was first created; the parameters given now differ and are ignored.", prepared.Id);
            state = existing;
        }

        await using var build = _composer.Create(state.Spec, options);
        var plan = build.Plan;
        var session = new StateSession(state, Store);
        session.Mutate(s =>
        {
            s.Status = ClusterStatus.Creating;
            s.LastErrors.Clear();
            s.KubernetesVersion = s.Spec.KubernetesVersion;
            s.Distribution = s.Spec.Distribution?.ToString() ?? provider.Descriptor.ManagedDistributionName;
        });
        await session.CheckpointAsync().ConfigureAwait(false);
        _logger.LogInformation("Creating {Cluster}: {Steps} step(s).", prepared.Id, plan.Steps.Count);
        await RunAsync(plan, session, options, ClusterStatus.Running, ClusterStatus.CreationFailed, "KsctlCreationFailed", cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Cluster {Cluster} is running.", prepared.Id);
        return state;
    }

    public async IAsyncEnumerable<ClusterState> ListAsync(ClusterQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var state in Store.ListAsync(query, cancellationToken).ConfigureAwait(false))
            yield return Checked(state)!;
    }

    /// <summary>
    /// What Get-KsctlCluster shows: summaries (no secrets, no step records) of the matching clusters, where a
    /// Creating/Deleting/Configuring left by a killed operation (no live lock holder) is shown as the failure it is
    /// and says how to go on — the same reading every mutating operation makes.
    /// </summary>
    public async Task<StateListing> ListSummariesAsync(ClusterQuery query, CancellationToken cancellationToken)
    {
        var read = await Store.ListAllAsync(query, cancellationToken, summaries: true).ConfigureAwait(false);
        // An invalid document is one error of its own (Get-KsctlCluster warns and skips it); the others are listed.
        var valid = new List<ClusterState>();
        var errors = read.Errors.ToList();
        foreach (var state in read.Clusters)
        {
            try { valid.Add(Checked(state)!); }
            catch (StateInvalidException ex) { errors.Add(ex); }
        }
        var listing = new StateListing(valid, errors);
        foreach (var state in listing.Clusters.Where(s => StatusRules.IsTransitional(s.Status)))
        {
            if (await Store.LockHolderAsync(state.Id, cancellationToken).ConfigureAwait(false) is not null) continue;
            var (operation, resume) = state.Status switch
            {
                ClusterStatus.Creating => ("create", "run New-KsctlCluster again to resume it, or Remove-KsctlCluster"),
                ClusterStatus.Deleting => ("delete", "run Remove-KsctlCluster again to finish it"),
                // A day-2 operation records its name while it runs (a pending upgrade may be older than it).
                _ when InterruptedDay2(state) is { } day2 => day2,
                _ when state.UpgradeTargetVersion is { } target => ("upgrade", $"run Update-KsctlCluster -KubernetesVersion {target} again to resume it"),
                _ => ("resize", "run Resize-KsctlCluster again, or Remove-KsctlCluster"),
            };
            state.Status = StatusRules.AfterInterruption(state.Status);
            state.LastErrors.Add($"The {operation} was interrupted (no process runs it any more); {resume}.");
        }
        return listing;
    }

    public async Task<ClusterState> GetAsync(ClusterId id, CancellationToken cancellationToken) =>
        Checked(await Store.ReadAsync(id, cancellationToken).ConfigureAwait(false)) ?? throw new ClusterNotFoundException(id.ToString());

    /// <summary>
    /// Writes a cluster read from an export file into the store (Import-KsctlState), after checking it as every loaded
    /// state is checked: an invalid one is <see cref="StateInvalidException"/> and nothing is written.
    /// </summary>
    public Task ImportAsync(ClusterState state, bool force, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        _stored.Check(state, "import");
        return Storage.Transfer.StateArchive.ImportAsync(Store, state, force, cancellationToken);
    }

    /// <summary>
    /// Finds the one cluster a name (plus optional provider, type, region) designates. Throws
    /// <see cref="ClusterNotFoundException"/> or, when several match, an error listing them.
    /// </summary>
    public async Task<ClusterState> ResolveAsync(string name, CloudProvider? provider, ClusterType? type, string? region, CancellationToken cancellationToken)
    {
        var query = new ClusterQuery { Provider = provider, Type = type, Region = region, NameMatches = n => n == name };
        var matches = new List<ClusterState>();
        await foreach (var s in Store.ListAsync(query, cancellationToken).ConfigureAwait(false)) matches.Add(s);
        return matches.Count switch
        {
            1 => Checked(matches[0])!,
            0 => throw new ClusterNotFoundException(Describe(name, provider, type, region)),
            _ => throw new KsctlException("KsctlAmbiguousCluster", KsctlErrorCategory.InvalidArgument,
                $"'{name}' names {matches.Count} clusters: {string.Join("; ", matches.Select(m => m.Id))}. Add -Provider, -Type or -Region to choose one.", name),
        };
    }

    /// <summary>Reads a YAML spec file (camelCase fields of <see cref="ClusterSpec"/> plus name/provider/type/region).</summary>
    public static SpecFile LoadSpecFile(string path) => SpecFile.Load(path);

    private async Task RunAsync(Plan plan, StateSession session, OperationOptions options, ClusterStatus success, ClusterStatus failure, string errorId, CancellationToken cancellationToken)
    {
        var executor = new PlanExecutor(options.MaxParallelism, _services.Loggers.CreateLogger<PlanExecutor>());
        _logger.LogDebug("Running the {Operation} plan of {Cluster}: up to {Parallel} step(s) at once.", plan.Operation, plan.Cluster, options.MaxParallelism);
        PlanResult result;
        try
        {
            result = await executor.ExecuteAsync(plan, session, _events, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            session.Mutate(s => { s.Status = failure; s.LastErrors.Add($"{plan.Operation} was cancelled; re-run to resume."); });
            await session.CheckpointAsync().ConfigureAwait(false);
            throw;
        }
        if (!result.Succeeded)
        {
            var errors = result.Failed.Select(f => f.ToString()).ToList();
            session.Mutate(s => { s.Status = failure; s.LastErrors.Clear(); s.LastErrors.AddRange(errors); });
            await session.CheckpointAsync().ConfigureAwait(false);
            // A machine that is not the one we pinned is a security event, not a failed step: it surfaces as itself.
            if (result.Failed.Select(f => f.Error).OfType<HostKeyMismatchException>().FirstOrDefault() is { } mismatch) throw mismatch;
            throw new PlanFailedException(errorId, plan.Cluster.ToString(), plan.Operation, errors, result.Failed.FirstOrDefault()?.Error);
        }
        if (success != session.State.Status)
        {
            session.Mutate(s => s.Status = success);
            await session.CheckpointAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Value comparison of two specs. Record equality is not enough: the list members (Applications, Machines) compare
    /// by reference, so a spec read back from state never equals the one built from the same parameters.
    /// </summary>
    private static bool SameSpec(ClusterSpec a, ClusterSpec b) =>
        System.Text.Json.JsonSerializer.Serialize(a, StateSerializer.Options) == System.Text.Json.JsonSerializer.Serialize(b, StateSerializer.Options);

    /// <summary>
    /// Checks the status machine and returns the status the operation starts from. A transitional status
    /// (Creating, Deleting, Configuring) left by an operation that was killed rather than failed counts as that
    /// operation's failure, so it can be resumed or the cluster deleted; while a live process still runs it, the
    /// caller is told who (<see cref="ClusterLockedException"/>) instead of a bare "not allowed".
    /// </summary>
    private async Task<ClusterStatus> EnsureAllowedAsync(ClusterState state, ClusterOperation operation, bool lockHeld, CancellationToken cancellationToken)
    {
        var status = state.Status;
        if (StatusRules.IsTransitional(status))
        {
            if (!lockHeld && await Store.LockHolderAsync(state.Id, cancellationToken).ConfigureAwait(false) is { } holder)
                throw new ClusterLockedException(state.Id.ToString(), holder);
            status = StatusRules.AfterInterruption(status);
        }
        if (!StatusRules.Allows(status, operation))
            throw new OperationNotAllowedException(state.Id.ToString(), operation.ToString().ToLowerInvariant(),
                status == state.Status ? status.ToString() : $"{state.Status} (interrupted: {status})");
        return status;
    }

    private static string Describe(string name, CloudProvider? provider, ClusterType? type, string? region)
    {
        var parts = new List<string> { $"name '{name}'" };
        if (provider is not null) parts.Add($"provider {provider}");
        if (type is not null) parts.Add($"type {type}");
        if (region is not null) parts.Add($"region {region}");
        return string.Join(", ", parts);
    }

    public void Dispose() => _ownedLoggers?.Dispose();
}
