namespace Ksctl.Core.Diagnostics;

/// <summary>Mirrors the PowerShell ErrorCategory names the cmdlet layer maps to (Core must not reference PowerShell).</summary>
public enum KsctlErrorCategory
{
    NotSpecified, InvalidArgument, InvalidOperation, ObjectNotFound, ResourceBusy, ResourceUnavailable,
    NotInstalled, NotImplemented, OperationStopped, InvalidData, SecurityError, AuthenticationError,
    ConnectionError, InvalidResult, WriteError, ReadError, OperationTimeout, ResourceExists,
}
