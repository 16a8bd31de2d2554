using Ksctl.Core.Remote;

namespace Ksctl.Remote.Tests;

public sealed class RemoteHelpersTests
{
    [Theory]
    [InlineData("SHA256:abc+/DEF", "SHA256:abc+/DEF")]
    [InlineData("  SHA256:abc+/DEF=  ", "SHA256:abc+/DEF")]
    [InlineData("abc+/DEF", "SHA256:abc+/DEF")]
    [InlineData("sha256:abc+/DEF", "SHA256:abc+/DEF")]
    public void Fingerprints_are_normalized_to_the_OpenSSH_form(string input, string expected) =>
        Assert.Equal(expected, HostKeyFingerprints.Normalize(input));

    [Fact]
    public void Fingerprints_compare_case_sensitively() =>
        Assert.False(HostKeyFingerprints.AreEqual("SHA256:abcDEF", "SHA256:ABCdef"));

    [Fact]
    public void Redactor_masks_every_secret_longest_first()
    {
        var r = new SecretRedactor(["token-123", "token-123-extended"], null, ["", "ab"]);

        Assert.Equal("a *** b *** c ab", r.Redact("a token-123-extended b token-123 c ab"));
        Assert.Equal("x ***", r.With(["more-secret"]).Redact("x more-secret"));
    }

    [Fact]
    public void Backoff_grows_with_jitter_and_stays_under_its_ceiling()
    {
        var b = new JitteredBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(1000));
        var delays = Enumerable.Range(0, 8).Select(_ => b.Next().TotalMilliseconds).ToList();

        Assert.InRange(delays[0], 50, 100);
        Assert.InRange(delays[1], 100, 200);
        Assert.InRange(delays[2], 200, 400);
        Assert.All(delays.Skip(4), d => Assert.InRange(d, 500, 1000));
    }

    [Fact]
    public void Backoff_never_waits_past_the_deadline()
    {
        var b = new JitteredBackoff(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
        var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromMilliseconds(200);

        Assert.True(b.Next(deadline, TimeProvider.System) <= TimeSpan.FromMilliseconds(200));
    }

    [Theory]
    [InlineData("plain", "'plain'")]
    [InlineData("it's", "'it'\"'\"'s'")]
    public void Shell_quoting_keeps_values_verbatim(string value, string expected) =>
        Assert.Equal(expected, ShellQuote.Quote(value));

    [Fact]
    public void Modes_print_as_octal() =>
        Assert.Equal("0640", ShellQuote.Octal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead));

    [Fact]
    public void Machines_and_scripts_never_print_secrets()
    {
        var m = new RemoteMachine { Address = "10.0.0.1", PrivateKeyPem = "-----BEGIN PRIVATE KEY-----secret" };
        var s = new RemoteScript("join", "k3s agent --token super-secret");

        Assert.DoesNotContain("secret", m.ToString());
        Assert.DoesNotContain("secret", s.ToString());
        Assert.Equal("10.0.0.1", m.DisplayName);
    }
}

public sealed class RemoteWrapperShellCheckTests
{
    public static TheoryData<string> Names() => new(RemoteWrappers.Sources.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void Wrapper_passes_shellcheck(string name) => ShellCheck.AssertClean(name, RemoteWrappers.Sources[name]);

    [Theory]
    [InlineData("ksctl-testmachines.sh")]
    public void The_test_machine_scripts_pass_shellcheck(string name) =>
        ShellCheck.AssertClean(name, File.ReadAllText(RepoPaths.TestMachinesFile(name)));
}
