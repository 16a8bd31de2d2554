// ImportProbe MODULE_PATH: hosts PowerShell (System.Management.Automation) in this fresh process, opens a runspace from
// InitialSessionState.CreateDefault2(), imports the module and prints one JSON line:
//   {"runspaceMs":..,"importMs":..,"moduleAssemblies":[..],"dependencyAssemblies":[..],"newAssemblies":[..],"commands":N}
// moduleAssemblies: every assembly loaded from the module's folder; dependencyAssemblies: those from its Dependencies/ folder;
// newAssemblies: every assembly (any location) that the import itself caused to load.
using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.Loader;
using System.Text.Json;

if (args.Length != 1) { Console.Error.WriteLine("usage: ImportProbe MODULE_PATH"); return 2; }
var modulePath = Path.GetFullPath(args[0]);
var moduleDir = Path.GetDirectoryName(modulePath)! + Path.DirectorySeparatorChar;
var depsDir = Path.Combine(moduleDir, "Dependencies") + Path.DirectorySeparatorChar;

var clock = Stopwatch.StartNew();
var iss = InitialSessionState.CreateDefault2();
using var runspace = RunspaceFactory.CreateRunspace(iss);
runspace.Open();
var runspaceMs = clock.Elapsed.TotalMilliseconds;

static List<System.Reflection.Assembly> Loaded() => AssemblyLoadContext.All.SelectMany(c => c.Assemblies).ToList();
var before = Loaded().Select(a => a.FullName).ToHashSet();

using var ps = PowerShell.Create(runspace);
clock.Restart();
var module = ps.AddCommand("Import-Module").AddParameter("Name", modulePath).AddParameter("PassThru").AddParameter("ErrorAction", "Stop").Invoke();
var importMs = clock.Elapsed.TotalMilliseconds;
if (ps.HadErrors || module.Count == 0)
{
    foreach (var e in ps.Streams.Error) Console.Error.WriteLine(e);
    return 1;
}
var commands = ((PSModuleInfo)module[0].BaseObject).ExportedCommands.Count;

var loaded = Loaded();
string Name(System.Reflection.Assembly a) => a.GetName().Name ?? a.FullName ?? "?";
bool Under(System.Reflection.Assembly a, string dir) =>
    !a.IsDynamic && a.Location.Length > 0 && a.Location.StartsWith(dir, StringComparison.Ordinal);
var result = new
{
    runspaceMs,
    importMs,
    moduleAssemblies = loaded.Where(a => Under(a, moduleDir)).Select(Name).Distinct().Order().ToArray(),
    dependencyAssemblies = loaded.Where(a => Under(a, depsDir)).Select(Name).Distinct().Order().ToArray(),
    newAssemblies = loaded.Where(a => !before.Contains(a.FullName)).Select(Name).Distinct().Order().ToArray(),
    commands,
};
Console.WriteLine(JsonSerializer.Serialize(result));
return 0;
