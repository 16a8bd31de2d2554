using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Storage.Protection;

/// <summary>A document with secrets must be written to or read from a shared store, and no state key is configured.</summary>
public sealed class StateKeyMissingException(string source)
    : KsctlException("KsctlStateKeyMissing", KsctlErrorCategory.SecurityError,
        $"'{source}' holds cluster secrets, which Ksctl encrypts in a shared state store, but no state key is configured. " +
        $"Set the environment variable {StateKey.EnvironmentVariable} to a base64 256-bit key (or {StateKey.FileEnvironmentVariable} to a key file), " +
        "the same key for everyone who uses this store.", source)
{
}
