global using TestMachine = Ksctl.TestSupport.InventoryMachine;
using Ksctl.TestSupport;

namespace Ksctl.Remote.Tests;

/// <summary>
/// Starts real SSH test machines (network + mount namespaces) once for the whole collection, with a sudo user. Nothing
/// is skipped: when the harness cannot start them (not root, sshd missing...), every test fails with the harness's reason.
/// </summary>
public sealed class TestMachinesFixture : IDisposable
{
    public const int Count = 3;
    /// <summary>Names and range of this suite's machines; override when another run on the host uses them.</summary>
    private static readonly string Prefix = Environment.GetEnvironmentVariable("KSCTL_TEST_MACHINES_PREFIX") ?? TestMachineHarness.ScopedPrefix("kst");
    private static readonly string Subnet = Environment.GetEnvironmentVariable("KSCTL_TEST_MACHINES_SUBNET") ?? TestMachineHarness.ScopedSubnet("10.251.200");
    public const string SudoUser = "ksctltest";

    public TestMachinesFixture()
    {
        if (TestMachineHarness.Run("id", TimeSpan.FromSeconds(10), "-u").Stdout.Trim() != "0")
            throw new InvalidOperationException("The remote tests need root (they create network and mount namespaces with real sshd machines). Run 'dotnet test' as root.");
        Machines = TestMachineHarness.Start(Prefix, Subnet, Count, "--sudo-user", SudoUser);
    }

    public IReadOnlyList<TestMachine> Machines { get; }

    public void StopMachine(int index) => TestMachineHarness.Require(Prefix, Subnet, "stop-machine", index.ToString(), "--sudo-user", SudoUser);
    public void StartMachine(int index) => TestMachineHarness.Require(Prefix, Subnet, "start-machine", index.ToString(), "--sudo-user", SudoUser);

    public void Dispose() => TestMachineHarness.Stop(Prefix, Subnet);
}

internal static class RepoPaths
{
    /// <summary>A file of tests/machines.</summary>
    public static string TestMachinesFile(string name) => Path.Combine(TestMachineHarness.RepoRoot, "tests", "machines", name);
}

[CollectionDefinition(Name)]
public sealed class TestMachinesCollection : ICollectionFixture<TestMachinesFixture>
{
    public const string Name = "test machines";
}
