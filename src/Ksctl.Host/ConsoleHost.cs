using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace Ksctl.Host;

/// <summary>A minimal PSHost on the console: output to stdout, errors to stderr, no prompts (non-interactive).</summary>
internal sealed class ConsoleHost : PSHost, IHostSupportsInteractiveSession
{
    private readonly Guid _id = Guid.NewGuid();
    private readonly ConsoleHostUI _ui = new();

    public override string Name => "ksctl-host";
    public override Version Version => typeof(ConsoleHost).Assembly.GetName().Version ?? new Version(0, 1);
    public override Guid InstanceId => _id;
    public override PSHostUserInterface UI => _ui;
    public override CultureInfo CurrentCulture => CultureInfo.CurrentCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.CurrentUICulture;
    public int? ExitCode { get; private set; }

    public override void SetShouldExit(int exitCode) => ExitCode = exitCode;
    public override void EnterNestedPrompt() => throw new NotSupportedException("Nested prompts are not supported by ksctl-host.");
    public override void ExitNestedPrompt() => throw new NotSupportedException();
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }

    public void PushRunspace(System.Management.Automation.Runspaces.Runspace runspace) => throw new NotSupportedException();
    public void PopRunspace() => throw new NotSupportedException();
    public bool IsRunspacePushed => false;
    public System.Management.Automation.Runspaces.Runspace? Runspace => null;

    public void ClearProgress() => _ui.ClearProgress();
}

internal sealed class ConsoleHostUI : PSHostUserInterface
{
    private readonly ConsoleRawUI _raw = new();
    private readonly bool _progressToTerminal = !Console.IsOutputRedirected;
    private readonly object _sync = new();
    private int _progressWidth;

    public override PSHostRawUserInterface RawUI => _raw;
    public override bool SupportsVirtualTerminal => !Console.IsOutputRedirected;

    public override void Write(string value) { lock (_sync) { ClearProgressLine(); Console.Out.Write(Plain(value)); } }
    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Write(value);
    public override void WriteLine(string value) { lock (_sync) { ClearProgressLine(); Console.Out.WriteLine(Plain(value)); } }

    // The table formatter styles headers even with OutputRendering = PlainText; a file or pipe gets the text alone.
    private static readonly System.Text.RegularExpressions.Regex Escapes = new("\x1b\\[[0-9;]*m", System.Text.RegularExpressions.RegexOptions.Compiled);
    private static string Plain(string value) => Console.IsOutputRedirected ? Escapes.Replace(value, "") : value;
    public override void WriteErrorLine(string value) { lock (_sync) { ClearProgressLine(); Console.Error.WriteLine(value); } }
    public override void WriteDebugLine(string message) => WriteLine($"DEBUG: {message}");
    public override void WriteVerboseLine(string message) => WriteLine($"VERBOSE: {message}");
    public override void WriteWarningLine(string message) { lock (_sync) { ClearProgressLine(); Console.Error.WriteLine($"WARNING: {message}"); } }
    public override void WriteInformation(InformationRecord record) { }

    /// <summary>One updating line, only on a terminal: progress in a log file is noise.</summary>
    public override void WriteProgress(long sourceId, ProgressRecord record)
    {
        if (!_progressToTerminal) return;
        lock (_sync)
        {
            if (record.RecordType == ProgressRecordType.Completed) { ClearProgressLine(); return; }
            var pct = record.PercentComplete >= 0 ? $" {record.PercentComplete,3}%" : "";
            var line = $"{record.Activity}:{pct} {record.StatusDescription}";
            var width = Math.Max(20, SafeWidth() - 1);
            if (line.Length > width) line = line[..(width - 1)] + "…";
            Console.Out.Write("\r" + line.PadRight(_progressWidth));
            _progressWidth = line.Length;
        }
    }

    public void ClearProgress() { lock (_sync) ClearProgressLine(); }

    private void ClearProgressLine()
    {
        if (_progressWidth == 0) return;
        Console.Out.Write("\r" + new string(' ', _progressWidth) + "\r");
        _progressWidth = 0;
    }

    private static int SafeWidth()
    {
        try { return Console.WindowWidth > 0 ? Console.WindowWidth : 120; } catch (IOException) { return 120; }
    }

    public override string ReadLine() => Console.ReadLine() ?? "";
    public override SecureString ReadLineAsSecureString() => throw new NotSupportedException("ksctl-host does not read secrets interactively.");
    public override Dictionary<string, PSObject> Prompt(string caption, string message, System.Collections.ObjectModel.Collection<FieldDescription> descriptions) =>
        throw new NotSupportedException("ksctl-host is not interactive; pass the values as parameters.");
    public override int PromptForChoice(string caption, string message, System.Collections.ObjectModel.Collection<ChoiceDescription> choices, int defaultChoice) =>
        throw new NotSupportedException("ksctl-host is not interactive; use -Force or -Confirm:$false to skip confirmation.");
    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
        throw new NotSupportedException("ksctl-host is not interactive.");
    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) =>
        throw new NotSupportedException("ksctl-host is not interactive.");
}

internal sealed class ConsoleRawUI : PSHostRawUserInterface
{
    private static int Width()
    {
        try { return !Console.IsOutputRedirected && Console.WindowWidth > 0 ? Console.WindowWidth : 120; } catch (IOException) { return 120; }
    }

    public override ConsoleColor BackgroundColor { get; set; } = ConsoleColor.Black;
    public override ConsoleColor ForegroundColor { get; set; } = ConsoleColor.Gray;
    public override Size BufferSize { get => new(Width(), 3000); set { } }
    public override Coordinates CursorPosition { get; set; }
    public override int CursorSize { get; set; } = 25;
    public override bool KeyAvailable => false;
    public override Size MaxPhysicalWindowSize => new(Width(), 50);
    public override Size MaxWindowSize => new(Width(), 50);
    public override Coordinates WindowPosition { get; set; }
    public override Size WindowSize { get => new(Width(), 50); set { } }
    public override string WindowTitle { get; set; } = "ksctl-host";
    public override void FlushInputBuffer() { }
    public override BufferCell[,] GetBufferContents(Rectangle rectangle) => throw new NotSupportedException();
    public override KeyInfo ReadKey(ReadKeyOptions options) => throw new NotSupportedException("ksctl-host is not interactive.");
    public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) => throw new NotSupportedException();
    public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) => throw new NotSupportedException();
    public override void SetBufferContents(Rectangle rectangle, BufferCell fill) => throw new NotSupportedException();
}
