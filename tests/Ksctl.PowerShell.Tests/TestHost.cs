using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;
using System.Text;
using System.Text.RegularExpressions;

namespace Ksctl.PowerShell.Tests;

/// <summary>A PSHost whose UI records what would be printed (-WhatIf text, Out-Default output), VT escapes stripped.</summary>
public sealed partial class RecordingHost : PSHost
{
    private readonly RecordingUI _ui = new();
    public override string Name => "KsctlTestHost";
    public override Version Version => new(1, 0);
    public override Guid InstanceId { get; } = Guid.NewGuid();
    public override PSHostUserInterface UI => _ui;
    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;
    public override void EnterNestedPrompt() => throw new NotSupportedException();
    public override void ExitNestedPrompt() => throw new NotSupportedException();
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }
    public override void SetShouldExit(int exitCode) { }

    public string Text => _ui.Text;
    public List<string> Lines => _ui.Lines;
    public void Clear() => _ui.Clear();

    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    internal static partial Regex VtEscape();

    private sealed class RecordingUI : PSHostUserInterface
    {
        private readonly StringBuilder _text = new();
        private readonly RawUI _raw = new();
        public override PSHostRawUserInterface RawUI => _raw;
        public string Text { get { lock (_text) return VtEscape().Replace(_text.ToString(), ""); } }
        public List<string> Lines => Text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        public void Clear() { lock (_text) _text.Clear(); }
        public override void Write(string value) { lock (_text) _text.Append(value); }
        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Write(value);
        public override void WriteLine(string value) { lock (_text) _text.Append(value).Append('\n'); }
        public override void WriteErrorLine(string value) => WriteLine("ERROR: " + value);
        public override void WriteDebugLine(string message) => WriteLine("DEBUG: " + message);
        public override void WriteVerboseLine(string message) => WriteLine("VERBOSE: " + message);
        public override void WriteWarningLine(string message) => WriteLine("WARNING: " + message);
        public override void WriteProgress(long sourceId, ProgressRecord record) { }
        public override string ReadLine() => throw new NotSupportedException();
        public override SecureString ReadLineAsSecureString() => throw new NotSupportedException();
        public override Dictionary<string, PSObject> Prompt(string caption, string message, System.Collections.ObjectModel.Collection<FieldDescription> descriptions) => throw new NotSupportedException();
        public override int PromptForChoice(string caption, string message, System.Collections.ObjectModel.Collection<ChoiceDescription> choices, int defaultChoice) => throw new NotSupportedException();
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) => throw new NotSupportedException();
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw new NotSupportedException();
    }

    private sealed class RawUI : PSHostRawUserInterface
    {
        public override ConsoleColor BackgroundColor { get; set; }
        public override ConsoleColor ForegroundColor { get; set; }
        public override Size BufferSize { get => new(160, 3000); set { } }
        public override Coordinates CursorPosition { get; set; }
        public override int CursorSize { get; set; }
        public override bool KeyAvailable => false;
        public override Size MaxPhysicalWindowSize => new(160, 50);
        public override Size MaxWindowSize => new(160, 50);
        public override Coordinates WindowPosition { get; set; }
        public override Size WindowSize { get => new(160, 50); set { } }
        public override string WindowTitle { get; set; } = "";
        public override void FlushInputBuffer() { }
        public override BufferCell[,] GetBufferContents(Rectangle rectangle) => throw new NotSupportedException();
        public override KeyInfo ReadKey(ReadKeyOptions options) => throw new NotSupportedException();
        public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) => throw new NotSupportedException();
        public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) => throw new NotSupportedException();
        public override void SetBufferContents(Rectangle rectangle, BufferCell fill) => throw new NotSupportedException();
    }
}
