using Ksctl.Core.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Remote;

/// <summary>An <see cref="ILogger"/> that forwards to the Core's event callback, so ILogger never crosses the public API.</summary>
internal sealed class EventLogger(IProgress<KsctlEvent>? sink, string component) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => sink is not null && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        sink!.Report(new KsctlEvent
        {
            Component = component,
            Level = logLevel switch
            {
                LogLevel.Trace => KsctlLogLevel.Trace,
                LogLevel.Debug => KsctlLogLevel.Debug,
                LogLevel.Information => KsctlLogLevel.Information,
                LogLevel.Warning => KsctlLogLevel.Warning,
                _ => KsctlLogLevel.Error,
            },
            Message = formatter(state, exception),
        });
    }
}
