using System.Text;
using Ksctl.Core.Remote;
using Xunit.Abstractions;

namespace Ksctl.Remote.Tests;

/// <summary>
/// What one command costs on the machine: the wrapper command exactly as SSH runs it, under strace -f on a test
/// machine, with a script (or upload) on its standard input; every successful execve is a program started, the
/// shell sshd would start for the command included (the first bash). Measured before this change: 12 for a script
/// (bash, bash, mkdir, chown, chmod, mktemp, tee, stat, setsid, bash, bash, rm) and 9 for an upload (bash, bash,
/// dirname, mkdir, mktemp, tee, stat, chmod, mv); now 4 (bash, bash, the script's bash, rm) and 5 (bash, bash, cat,
/// stat, mv). The counts are printed (RESULTS.md quotes them).
/// </summary>
[Collection(TestMachinesCollection.Name)]
public sealed class WrapperProcessCountTests(TestMachinesFixture fixture, ITestOutputHelper output)
{
    private static readonly RemoteShellOptions Options = new() { ConnectDeadline = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task A_script_starts_at_most_4_programs_and_an_upload_at_most_5()
    {
        await using var shell = await new SshRemoteShellFactory(Options).ConnectAsync(fixture.Machines[1].ToRemote());
        var script = Encoding.UTF8.GetBytes("echo hello\n");
        var runId = RemoteWrappers.NewRunId();
        var scriptPrograms = await CountAsync(shell, RemoteWrappers.ScriptCommand(runId, script.Length), script, "hello");
        var payload = Encoding.UTF8.GetBytes("payload\n");
        var uploadPrograms = await CountAsync(shell, RemoteWrappers.UploadCommand("/opt/ksctl-count/file", (UnixFileMode)0b110_100_100, payload.Length), payload, "");
        output.WriteLine($"programs started per command: script {scriptPrograms.Count} ({string.Join(", ", scriptPrograms)}), upload {uploadPrograms.Count} ({string.Join(", ", uploadPrograms)})");
        Assert.True(scriptPrograms.Count <= 4, string.Join(", ", scriptPrograms));
        Assert.True(uploadPrograms.Count <= 5, string.Join(", ", uploadPrograms));
        Assert.Equal("payload", (await shell.RunAsync(new RemoteScript("test:read", "cat /opt/ksctl-count/file; stat -c %a /opt/ksctl-count/file\n"))).StandardOutput.Split('\n')[0]);
    }

    /// <summary>The programs (execve'd paths) the command starts, the command itself included.</summary>
    private static async Task<IReadOnlyList<string>> CountAsync(IRemoteShell shell, string command, byte[] stdin, string expectedOutput)
    {
        var id = RemoteWrappers.NewRunId();
        await shell.UploadAsync(Encoding.UTF8.GetBytes(command), $"/opt/ksctl-count/{id}.cmd", (UnixFileMode)0b110_000_000);
        await shell.UploadAsync(stdin, $"/opt/ksctl-count/{id}.in", (UnixFileMode)0b110_000_000);
        var result = await shell.RunAsync(new RemoteScript("test:count",
            $"cd /opt/ksctl-count; out=$(strace -f -qq -e trace=execve -e signal=none -o {id}.trace bash -c \"$(cat {id}.cmd)\" < {id}.in); " +
            $"printf '%s\\n' \"$out\" > {id}.out; grep -E '^[0-9]+ +execve\\(' {id}.trace | grep -v '= -1' | sed -E 's/^[0-9]+ +execve\\(\"([^\"]*)\".*/\\1/'\n",
            timeout: TimeSpan.FromSeconds(60)));
        var check = await shell.RunAsync(new RemoteScript("test:out", $"cat /opt/ksctl-count/{id}.out\n"));
        Assert.Equal(expectedOutput, check.StandardOutput.Trim());
        return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
