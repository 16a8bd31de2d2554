using System.Runtime.CompilerServices;
using Ksctl.Tests.Shared;

namespace Ksctl.Core.Tests.Support;

/// <summary>
/// Runs when the test assembly loads, before any test: the host's cloud sign-in (CIVO_*, AZURE_*, AWS_*, the CLIs'
/// caches, IMDS endpoints) is cleared for the whole test process, so no Core test can pass or fail on what the machine
/// running it happens to be signed in to. Tests that need a variable set it through <see cref="EnvironmentScope"/>.
/// </summary>
internal static class HostIsolation
{
    public static string EmptyCredentialDirectory { get; } = Path.Combine(Path.GetTempPath(), $"ksctl-core-tests-nocreds-{Environment.ProcessId}");

    [ModuleInitializer]
    internal static void ClearHostCredentials() => HostCredentialIsolation.Clear(EmptyCredentialDirectory);
}
