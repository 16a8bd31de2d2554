using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ksctl.Core.Remote;

namespace Ksctl.Remote.Tests;

/// <summary>One machine of the inventory printed by tests/machines/ksctl-testmachines.sh.</summary>
public sealed record TestMachine
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("index")] public int Index { get; init; }
    [JsonPropertyName("address")] public required string Address { get; init; }
    [JsonPropertyName("port")] public int Port { get; init; }
    [JsonPropertyName("user")] public required string User { get; init; }
    /// <summary>A non-root user with passwordless sudo on every machine (cloud images log in as such a user).</summary>
    [JsonPropertyName("sudoUser")] public string SudoUser { get; init; } = "";
    [JsonPropertyName("keyPath")] public required string KeyPath { get; init; }
    [JsonPropertyName("rsaKeyPath")] public required string RsaKeyPath { get; init; }
    [JsonPropertyName("hostKey")] public required string HostKey { get; init; }

    public RemoteMachine ToRemote(string? hostKey = null, bool pin = true) => new()
    {
        Name = Name,
        Address = Address,
        Port = Port,
        User = User,
        PrivateKeyPath = KeyPath,
        HostKeyFingerprint = pin ? hostKey ?? HostKey : null,
    };
}

/// <summary>
/// Starts real SSH test machines (network + mount namespaces) once for the whole collection. Nothing is skipped: when
/// the harness cannot start them (not root, sshd missing...), every test fails with the harness's reason.
/// </summary>
public sealed class TestMachinesFixture : IDisposable
{
    public const int Count = 3;
    /// <summary>Names and range of this suite's machines; override when another run on the host uses them.</summary>
    private static readonly string Prefix = Environment.GetEnvironmentVariable("KSCTL_TEST_MACHINES_PREFIX") ?? "kst";
    private static readonly string Subnet = Environment.GetEnvironmentVariable("KSCTL_TEST_MACHINES_SUBNET") ?? "10.251.200";
    public const string SudoUser = "ksctltest";

    public TestMachinesFixture()
    {
        Script = FindScript();
        if (!IsRoot())
        {
            throw new InvalidOperationException("The remote tests need root (they create network and mount namespaces with real sshd machines). Run 'dotnet test' as root.");
        }
        var (code, stdout, stderr) = RunHarness(TimeSpan.FromSeconds(120), "start", Count.ToString());
        if (code != 0)
        {
            // xunit does not dispose a fixture whose constructor threw: remove what was started before failing.
            RunHarness(TimeSpan.FromSeconds(60), "stop");
            throw new InvalidOperationException($"ksctl-testmachines.sh start failed with exit code {code}: {stderr.Trim()} {stdout.Trim()}");
        }
        Machines = JsonSerializer.Deserialize<List<TestMachine>>(stdout)
                   ?? throw new InvalidOperationException("ksctl-testmachines.sh printed no inventory: " + stdout);
        if (Machines.Count != Count) throw new InvalidOperationException($"Expected {Count} machines, the harness printed {Machines.Count}: {stdout}");
    }

    public string Script { get; }
    public IReadOnlyList<TestMachine> Machines { get; }

    public void StopMachine(int index) => Harness("stop-machine", index.ToString());
    public void StartMachine(int index) => Harness("start-machine", index.ToString());

    /// <summary>Removes the machines, unless KSCTL_TESTMACHINES_KEEP=1 (to inspect their logs after a failure).</summary>
    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("KSCTL_TESTMACHINES_KEEP") == "1") return;
        RunHarness(TimeSpan.FromSeconds(60), "stop");
    }

    private void Harness(params string[] args)
    {
        var (code, stdout, stderr) = RunHarness(TimeSpan.FromSeconds(60), args);
        if (code != 0) throw new InvalidOperationException($"ksctl-testmachines.sh {string.Join(' ', args)} failed ({code}): {stderr} {stdout}");
    }

    private static bool IsRoot()
    {
        var (code, stdout, _) = Run("id", TimeSpan.FromSeconds(10), "-u");
        return code == 0 && stdout.Trim() == "0";
    }

    private (int ExitCode, string Stdout, string Stderr) RunHarness(TimeSpan timeout, params string[] args) =>
        Run("bash", timeout, [Script, .. args, "--prefix", Prefix, "--subnet", Subnet, "--sudo-user", SudoUser]);

    private static (int ExitCode, string Stdout, string Stderr) Run(string file, TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + file);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout}");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static string FindScript() => RepoPaths.TestMachinesFile("ksctl-testmachines.sh");
}

internal static class RepoPaths
{
    /// <summary>A file of tests/machines, found by walking up from the test binaries.</summary>
    public static string TestMachinesFile(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "machines", name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"tests/machines/{name} not found above " + AppContext.BaseDirectory);
    }
}

[CollectionDefinition(Name)]
public sealed class TestMachinesCollection : ICollectionFixture<TestMachinesFixture>
{
    public const string Name = "test machines";
}
