using Ksctl.Core.Remote;

namespace Ksctl.Remote.Tests;

/// <summary>
/// The script wrapper keeps the script it runs as root and its pid file in a root-owned 0700 directory, never in
/// world-writable /tmp (where another local user could plant or swap them), for root and for a sudo user alike.
/// </summary>
[Collection(TestMachinesCollection.Name)]
public sealed class ScriptWrapperDirectoryTests(TestMachinesFixture fixture)
{
    private static readonly RemoteShellOptions Options = new() { ConnectDeadline = TimeSpan.FromSeconds(10) };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_running_script_and_its_pid_file_live_in_a_root_owned_0700_directory(bool sudo)
    {
        var machine = fixture.Machines[2];
        var remote = sudo ? machine.ToRemote() with { User = machine.SudoUser } : machine.ToRemote();
        await using var shell = await new SshRemoteShellFactory(Options).ConnectAsync(remote);

        var result = await shell.RunAsync(new RemoteScript("test:where",
            "dir=$(dirname \"$0\"); echo \"$0\"; stat -c '%a %U %G' \"$dir\"; stat -c '%a %U' \"$0\"; ls \"$dir\" | grep -c '^run-.*\\.pid$'\n",
            timeout: TimeSpan.FromSeconds(30)));

        var lines = result.StandardOutput.Trim().Split('\n');
        Assert.StartsWith(RemoteWrappers.RunDirectory + "/", lines[0]);
        Assert.Equal("700 root root", lines[1]);
        Assert.Equal("600 root", lines[2]);
        Assert.Equal("1", lines[3]);
        // Nothing of the first run is left once it has ended: the second sees only its own script and pid file.
        var after = await shell.RunAsync(new RemoteScript("test:after", $"ls {RemoteWrappers.RunDirectory} | grep -vc -e \"^run-\" -e \"^$(basename \"$0\")$\" || true\n"));
        Assert.Equal("0", after.StandardOutput.Trim());
    }
}
