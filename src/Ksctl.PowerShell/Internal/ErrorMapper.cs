using System.Management.Automation;
using Ksctl.Core.Diagnostics;

namespace Ksctl.PowerShell.Internal;

/// <summary>Exceptions → ErrorRecords: a KsctlException keeps its ErrorId, category, target and recommended action.</summary>
internal static class ErrorMapper
{
    public const string UnexpectedErrorId = "KsctlUnexpectedError";

    public static Exception Unwrap(Exception ex)
    {
        while (ex is AggregateException { InnerExceptions.Count: 1 } agg) ex = agg.InnerExceptions[0];
        return ex;
    }

    public static ErrorRecord ToErrorRecord(Exception exception, object? target = null)
    {
        var ex = Unwrap(exception);
        if (ex is KsctlException k)
        {
            var category = Enum.TryParse<ErrorCategory>(k.Category.ToString(), out var c) ? c : ErrorCategory.NotSpecified;
            var record = new ErrorRecord(ex, k.ErrorId, category, k.Target ?? target);
            if (!string.IsNullOrEmpty(k.RecommendedAction))
                record.ErrorDetails = new ErrorDetails(ex.Message) { RecommendedAction = k.RecommendedAction };
            return record;
        }
        return new ErrorRecord(ex, UnexpectedErrorId, ErrorCategory.NotSpecified, target);
    }
}
