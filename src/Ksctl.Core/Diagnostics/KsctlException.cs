namespace Ksctl.Core.Diagnostics;

/// <summary>Every error ksctl raises on purpose: a stable id (the PowerShell ErrorId) and a category.</summary>
public class KsctlException : Exception
{
    public KsctlException(string errorId, KsctlErrorCategory category, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Category = category;
        Target = target;
    }

    public string ErrorId { get; }
    public KsctlErrorCategory Category { get; }
    /// <summary>What the error is about (a cluster name, a parameter name, a machine address).</summary>
    public object? Target { get; }
    /// <summary>What the user can do about it, when we know.</summary>
    public string? RecommendedAction { get; init; }
}

/// <summary>Bad input: names the parameter and the rule it breaks. Raised before anything is changed.</summary>
public sealed class InvalidSpecException(string parameter, string rule)
    : KsctlException("KsctlInvalidSpec", KsctlErrorCategory.InvalidArgument, $"Invalid value for -{parameter}: {rule}", parameter)
{
    public string Parameter { get; } = parameter;
    public string Rule { get; } = rule;
}

public sealed class ClusterNotFoundException(string description)
    : KsctlException("KsctlClusterNotFound", KsctlErrorCategory.ObjectNotFound, $"Cluster not found: {description}.", description);

public sealed class OperationNotAllowedException(string cluster, string operation, string status)
    : KsctlException("KsctlOperationNotAllowed", KsctlErrorCategory.InvalidOperation,
        $"Cannot {operation} cluster {cluster}: its status is {status}, which does not allow {operation}.", cluster);

public sealed class ClusterLockedException(string cluster, string holder)
    : KsctlException("KsctlClusterLocked", KsctlErrorCategory.ResourceBusy,
        $"Cluster {cluster} is locked by another operation ({holder}). Wait for it to finish; a lock whose holder is gone (a process that no longer runs, a lease nobody renews) can be taken over with -BreakStaleLock, and a live holder's never is.", cluster)
{
    public string Holder { get; } = holder;
}

public sealed class ClusterExistsException(string cluster, string status)
    : KsctlException("KsctlClusterExists", KsctlErrorCategory.ResourceExists,
        $"Cluster {cluster} already exists with status {status}.", cluster);

public sealed class StateSchemaException(string path, int found, int supported)
    : KsctlException("KsctlStateSchemaUnsupported", KsctlErrorCategory.InvalidData,
        $"State document '{path}' has schema version {found}; this version of Ksctl understands up to {supported}. Update the Ksctl module. The document was left unchanged.", path);

public sealed class StateCorruptException(string path, string reason, Exception? inner = null)
    : KsctlException("KsctlStateCorrupt", KsctlErrorCategory.InvalidData, $"State document '{path}' cannot be read: {reason}", path, inner);

/// <summary>
/// A state document (in a store, or in an export file) that Ksctl refuses to act on: its integrity tag does not
/// verify under the state key, it lies about where it was found, a secret is plaintext where it must be encrypted,
/// a collection is missing, or its recorded spec breaks the rules a new spec must follow. Nothing is done with it.
/// </summary>
public sealed class StateInvalidException(string cluster, string source, string reason, Exception? inner = null)
    : KsctlException("KsctlStateInvalid", KsctlErrorCategory.InvalidData,
        $"The state of cluster {cluster} ('{source}') is not valid and was not used: {reason}", cluster, inner)
{
    public string Cluster { get; } = cluster;
    public string Reason { get; } = reason;
}

public sealed class PrerequisiteMissingException(string tool, string detail)
    : KsctlException("KsctlPrerequisiteMissing", KsctlErrorCategory.NotInstalled, detail, tool);

public sealed class ProviderNotAvailableException(string provider, string detail)
    : KsctlException("KsctlProviderNotAvailable", KsctlErrorCategory.NotImplemented, detail, provider);

/// <summary>An external program (kind, docker...) failed; carries its exit code and stderr.</summary>
public sealed class ExternalCommandException(string command, int exitCode, string stderr)
    : KsctlException("KsctlExternalCommandFailed", KsctlErrorCategory.InvalidResult,
        $"'{command}' exited with code {exitCode}: {(string.IsNullOrWhiteSpace(stderr) ? "(no error output)" : stderr.Trim())}", command)
{
    public int ExitCode { get; } = exitCode;
    public string StandardError { get; } = stderr;
}

/// <summary>One or more plan steps failed; the cluster is left resumable.</summary>
public sealed class PlanFailedException(string errorId, string cluster, string operation, IReadOnlyList<string> errors, Exception? first)
    : KsctlException(errorId, KsctlErrorCategory.InvalidResult,
        $"{operation} of cluster {cluster} failed: {string.Join("; ", errors)}. Re-run the same command to resume.", cluster, first)
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
