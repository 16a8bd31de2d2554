using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Storage.Protection;

/// <summary>The state key is malformed, or is not the key the stored secrets were protected with.</summary>
public sealed class StateKeyInvalidException(string source, string reason, Exception? inner = null)
    : KsctlException("KsctlStateKeyInvalid", KsctlErrorCategory.SecurityError,
        $"The state key is not valid for '{source}': {reason}", source, inner)
{
    public string Reason { get; } = reason;
}
