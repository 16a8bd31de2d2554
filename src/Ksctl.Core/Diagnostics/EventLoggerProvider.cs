using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Diagnostics;

/// <summary>
/// Turns Core's ILogger calls into <see cref="KsctlEvent"/>s for the cmdlet layer (which must not see ILogger).
/// The cluster and step come from logger scopes (see PlanExecutor).
/// </summary>
internal sealed class EventLoggerProvider(IProgress<KsctlEvent> sink) : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ILogger CreateLogger(string categoryName) => new EventLogger(this, ShortName(categoryName));
    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;
    public void Dispose() { }

    internal static string ShortName(string category) => category[(category.LastIndexOf('.') + 1)..];

    internal static (string? Cluster, string? Step) ReadScope(IExternalScopeProvider scopes)
    {
        string? cluster = null, step = null;
        scopes.ForEachScope((scope, _) =>
        {
            if (scope is not IEnumerable<KeyValuePair<string, object>> pairs) return;
            foreach (var (key, value) in pairs)
            {
                if (key == "Cluster") cluster = value?.ToString();
                else if (key == "Step") step = value?.ToString();
            }
        }, (object?)null);
        return (cluster, step);
    }

    private sealed class EventLogger(EventLoggerProvider owner, string component) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var (cluster, step) = ReadScope(owner._scopes);
            owner.Reports(new KsctlEvent
            {
                Level = logLevel switch
                {
                    LogLevel.Trace => KsctlLogLevel.Trace,
                    LogLevel.Debug => KsctlLogLevel.Debug,
                    LogLevel.Information => KsctlLogLevel.Information,
                    LogLevel.Warning => KsctlLogLevel.Warning,
                    _ => KsctlLogLevel.Error,
                },
                Component = component,
                Message = formatter(state, exception),
                Cluster = cluster,
                Step = step,
            });
        }
    }

    private void Reports(KsctlEvent e) => sink.Report(e);
}
