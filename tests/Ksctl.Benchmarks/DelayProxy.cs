using System.Diagnostics;
using System.Net.Sockets;
using Ksctl.TestSupport;

namespace Ksctl.Benchmarks;

/// <summary>
/// Network latency without sch_netem (this host's kernel lacks it): a TCP proxy inside each test machine's network
/// namespace, in front of its sshd (machine:<see cref="Port"/> → 127.0.0.1:22), that holds every chunk of bytes for a
/// fixed one-way delay in each direction, so each SSH round trip waits 2 × the delay, as on a distant machine. It runs
/// in the machine's namespace, so its CPU counts as the machine's (<see cref="TestMachines.MachinesCpu"/>), not Ksctl's.
/// </summary>
public sealed class DelayProxy : IDisposable
{
    public const int Port = 2222;

    // asyncio: one reader and one timed writer per direction; a chunk is written no earlier than its arrival + delay,
    // in order; end-of-stream is passed on the same way.
    private const string Script = """
        import asyncio, sys
        listen, target, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000.0

        async def pump(reader, writer):
            loop = asyncio.get_running_loop()
            queue = asyncio.Queue()
            async def send():
                while True:
                    due, data = await queue.get()
                    wait = due - loop.time()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    if not data:
                        try:
                            writer.write_eof()
                        except OSError:
                            pass
                        return
                    writer.write(data)
                    await writer.drain()
            sender = asyncio.create_task(send())
            try:
                while True:
                    data = await reader.read(65536)
                    queue.put_nowait((loop.time() + delay, data))
                    if not data:
                        break
                await sender
            except (ConnectionError, OSError):
                sender.cancel()
            finally:
                writer.close()

        async def handle(client_reader, client_writer):
            try:
                server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
            except OSError:
                client_writer.close()
                return
            await asyncio.gather(pump(client_reader, server_writer), pump(server_reader, client_writer), return_exceptions=True)

        async def main():
            server = await asyncio.start_server(handle, "0.0.0.0", listen, backlog=256)
            async with server:
                await server.serve_forever()

        asyncio.run(main())
        """;

    private readonly List<Process> _processes = [];
    private readonly string _file;

    public int OneWayDelayMs { get; }

    private DelayProxy(int oneWayDelayMs)
    {
        OneWayDelayMs = oneWayDelayMs;
        _file = Path.Combine(Path.GetTempPath(), $"ksctl-delay-proxy-{Environment.ProcessId}.py");
        File.WriteAllText(_file, Script);
    }

    /// <summary>Starts a proxy in each machine's namespace and waits until each accepts connections (counting attempts).</summary>
    public static DelayProxy Start(IEnumerable<InventoryMachine> machines, int oneWayDelayMs)
    {
        var proxy = new DelayProxy(oneWayDelayMs);
        try
        {
            var list = machines.ToList();
            foreach (var m in list)
            {
                var psi = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true };
                foreach (var a in new[] { "netns", "exec", $"{TestMachines.Prefix}-m{m.Index}", "python3", proxy._file, Port.ToString(), "22", oneWayDelayMs.ToString() })
                    psi.ArgumentList.Add(a);
                proxy._processes.Add(Process.Start(psi) ?? throw new InvalidOperationException("cannot start the delay proxy"));
            }
            foreach (var m in list)
            {
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        using var tcp = new TcpClient();
                        tcp.Connect(m.Address, Port);
                        break;
                    }
                    catch (SocketException) when (attempt < 200)
                    {
                        Thread.Sleep(50); // the proxy's start-up, bounded by the attempts
                    }
                }
            }
            return proxy;
        }
        catch
        {
            proxy.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            try { if (!p.HasExited) p.Kill(entireProcessTree: true); p.WaitForExit(5000); }
            catch (InvalidOperationException) { }
            p.Dispose();
        }
        _processes.Clear();
        try { File.Delete(_file); } catch (IOException) { }
    }
}
