using System.Runtime.CompilerServices;
using Ksctl.Core.Providers.Civo;

namespace Ksctl.Civo.Tests;

/// <summary>
/// Every Civo test polls in milliseconds: the emulator turns a cluster ACTIVE after a number of polls (not of seconds),
/// so the product's seconds-long delays between polls (Civo budgets requests per minute) only cost wall time here —
/// about 5 s per managed create and 2 s per delete. The deadlines stay the product's. A test about the real delays
/// (<see cref="CivoConformanceTests.Polls_are_seconds_apart_not_milliseconds"/>) sets <see cref="CivoTimings.Default"/>
/// for its own flow, which wins over this.
/// </summary>
internal static class CivoTestTimings
{
    /// <summary>Fast, but not so fast that instances booting for tens of seconds on a busy host spend a phase's request budget (120 a minute in the HA test).</summary>
    public static readonly CivoTimings Fast = CivoTimings.Default with { FirstPoll = TimeSpan.FromMilliseconds(20), MaxPoll = TimeSpan.FromSeconds(1) };

    [ModuleInitializer]
    internal static void Initialize() => CivoTimings.UseForProcess(Fast);
}
