using System.Text;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Diagnostics;

/// <summary>
/// Appends Information-and-above lines to <c>$KSCTL_HOME/logs/ksctl-yyyyMMdd.log</c> (0600), so every mutating
/// operation leaves a trail even when nobody watched -Verbose. The file opens on the first line only.
/// </summary>
internal sealed class FileLoggerProvider(string folder) : ILoggerProvider, ISupportExternalScope
{
    private readonly object _sync = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();
    private StreamWriter? _writer;

    public ILogger CreateLogger(string categoryName) => new FileLogger(this, EventLoggerProvider.ShortName(categoryName));
    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
        lock (_sync) { _writer?.Dispose(); _writer = null; }
    }

    private void Write(string line)
    {
        lock (_sync)
        {
            if (_writer is null)
            {
                Storage.SecureFile.EnsureDirectory(folder);
                var path = Path.Combine(folder, $"ksctl-{DateTime.UtcNow:yyyyMMdd}.log");
                var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite };
                if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                _writer = new StreamWriter(new FileStream(path, options), new UTF8Encoding(false)) { AutoFlush = true };
            }
            _writer.WriteLine(line);
        }
    }

    private sealed class FileLogger(FileLoggerProvider owner, string component) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var (cluster, step) = EventLoggerProvider.ReadScope(owner._scopes);
            var sb = new StringBuilder()
                .Append(DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ")).Append(' ')
                .Append(logLevel.ToString().ToUpperInvariant()[..4]).Append(" pid=").Append(Environment.ProcessId)
                .Append(' ').Append(component);
            if (cluster is not null) sb.Append(" cluster=\"").Append(cluster).Append('"');
            if (step is not null) sb.Append(" step=").Append(step);
            sb.Append(": ").Append(formatter(state, exception));
            // The exception message only: stack traces belong to -Debug, and may quote secrets from arguments.
            if (exception is not null) sb.Append(" | ").Append(exception.GetType().Name).Append(": ").Append(exception.Message);
            owner.Write(sb.ToString());
        }
    }
}
