using System.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;

namespace Ksctl.Core.Tests;

/// <summary>
/// This test assembly doubles as a small program so that tests can run Core in a second process and kill it
/// (SIGKILL) at awkward moments. Modes:
///   writer &lt;root&gt; &lt;firstVersion&gt;  writes ever newer big documents, printing each version once it is written;
///   lock &lt;root&gt; &lt;name&gt;            takes the cluster lock, prints "locked", then waits to be killed.
/// </summary>
public static class ChildProcess
{
    public static int Main(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "writer":
            {
                var store = new FileStateStore(args[1]);
                for (var version = int.Parse(args[2]); ; version++)
                {
                    store.WriteAsync(BigDocument(version), CancellationToken.None).GetAwaiter().GetResult();
                    Console.Out.WriteLine(version);
                    Console.Out.Flush();
                }
            }
            case "lock":
            {
                var store = new FileStateStore(args[1]);
                var held = store.AcquireLockAsync(Samples.LocalId(args[2]), "create", false, CancellationToken.None).GetAwaiter().GetResult();
                Console.Out.WriteLine("locked " + held.Holder);
                Console.Out.Flush();
                Thread.Sleep(Timeout.Infinite);
                return 0;
            }
            case "break":
            {
                // Waits for the go file, then takes the cluster's lock with -BreakStaleLock; prints "won <holder>" and
                // holds it until stdin closes, or "locked <message>".
                var store = new FileStateStore(args[1]);
                while (!File.Exists(args[3])) Thread.Yield();
                try
                {
                    var held = store.AcquireLockAsync(Samples.LocalId(args[2]), "delete", true, CancellationToken.None).GetAwaiter().GetResult();
                    Console.Out.WriteLine("won " + held.Holder);
                    Console.Out.Flush();
                    Console.In.ReadToEnd();
                    held.DisposeAsync().AsTask().GetAwaiter().GetResult();
                }
                catch (Ksctl.Core.Diagnostics.ClusterLockedException ex)
                {
                    Console.Out.WriteLine("locked " + ex.Message);
                    Console.Out.Flush();
                }
                return 0;
            }
            default:
                Console.Error.WriteLine("usage: writer <root> <firstVersion> | lock <root> <name> | break <root> <name> <goFile>");
                return 2;
        }
    }

    public static readonly ClusterId WriterCluster = Samples.LocalId("crashy");

    /// <summary>A deterministic ~250 KB document for a version: a reader can rebuild it and compare.</summary>
    public static ClusterState BigDocument(int version)
    {
        var state = Samples.State(WriterCluster);
        state.Resources["version"] = version.ToString();
        for (var i = 0; i < 1500; i++)
            state.Resources[$"resource-{i:0000}"] = $"v{version}-{i}-" + new string((char)('a' + (version + i) % 26), 120);
        return state;
    }

    /// <summary>Starts this assembly as a child process in the given mode.</summary>
    public static Process Start(params string[] args)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (string.IsNullOrEmpty(dotnet) || !File.Exists(dotnet)) dotnet = "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        foreach (var a in args) start.ArgumentList.Add(a);
        return Process.Start(start) ?? throw new InvalidOperationException("could not start the child process");
    }
}
