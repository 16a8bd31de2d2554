using System.Text.RegularExpressions;
using System.Xml.Linq;
using Ksctl.Server.Tests.Harness;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace Ksctl.Server.Tests;

/// <summary>
/// deploy/docker/Dockerfile, checked without building it (no image can be pulled or built on this machine): its
/// instructions parsed as Docker reads them (one per line, '\' continues a line; docs.docker.com/reference/dockerfile),
/// then held against the repository (every COPY source exists and the build context's ignore file keeps it; the
/// server's project references stay inside what is copied), the server's build output (the entry point's assembly and
/// runtime config are what the build makes) and the Kubernetes Deployment (user, port, home volume, image tag).
/// </summary>
public sealed partial class DockerfileTests
{
    private static readonly string Folder = Path.Combine(TestServer.RepoRoot, "deploy", "docker");

    private sealed record Instruction(string Keyword, string Arguments);

    private static List<Instruction> Parse(string text)
    {
        var instructions = new List<Instruction>();
        var pending = "";
        foreach (var raw in text.ReplaceLineEndings("\n").Split('\n'))
        {
            var line = raw.TrimEnd();
            if (pending.Length == 0 && (line.TrimStart().StartsWith('#') || line.Trim().Length == 0)) continue;
            if (line.EndsWith('\\')) { pending += line[..^1] + " "; continue; }
            var whole = (pending + line).Trim();
            pending = "";
            var space = whole.IndexOf(' ');
            instructions.Add(new Instruction(whole[..space].ToUpperInvariant(), whole[(space + 1)..].Trim()));
        }
        return instructions;
    }

    [Fact]
    public void The_Dockerfile_builds_in_one_stage_and_runs_the_published_server_as_the_Deployments_non_root_user_in_another()
    {
        var instructions = Parse(File.ReadAllText(Path.Combine(Folder, "Dockerfile")));
        var stages = instructions.Select((ins, i) => (ins, i)).Where(x => x.ins.Keyword == "FROM").ToList();
        Assert.Equal(["mcr.microsoft.com/dotnet/sdk:10.0 AS build", "mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime"], stages.Select(s => s.ins.Arguments));
        var build = instructions.Skip(stages[0].i).Take(stages[1].i - stages[0].i).ToList();
        var runtime = instructions.Skip(stages[1].i).ToList();

        // The build stage copies only paths that exist, that the context's ignore file keeps, and that hold every project the server references.
        var ignore = File.ReadAllLines(Path.Combine(Folder, "Dockerfile.dockerignore")).Where(l => l.StartsWith('!')).Select(l => l[1..].TrimEnd('*', '/')).ToList();
        var sources = build.Where(i => i.Keyword == "COPY").Select(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]).ToList();
        Assert.NotEmpty(sources);
        foreach (var source in sources)
        {
            Assert.True(File.Exists(Path.Combine(TestServer.RepoRoot, source)) || Directory.Exists(Path.Combine(TestServer.RepoRoot, source)), $"COPY {source}: no such path");
            Assert.Contains(ignore, kept => source.TrimEnd('/').StartsWith(kept, StringComparison.Ordinal));
        }
        var publish = Assert.Single(build, i => i.Keyword == "RUN" && i.Arguments.StartsWith("dotnet publish", StringComparison.Ordinal)).Arguments;
        var project = PublishedProject().Match(publish).Groups[1].Value;
        Assert.Equal("src/Ksctl.Server/Ksctl.Server.csproj", project);
        var copied = sources.Where(s => s.EndsWith('/')).ToList();
        foreach (var reference in ProjectClosure(Path.Combine(TestServer.RepoRoot, project)))
            Assert.Contains(copied, c => Path.GetRelativePath(TestServer.RepoRoot, reference).Replace('\\', '/').StartsWith(c, StringComparison.Ordinal));
        Assert.Contains("-o /app", publish);
        var assembly = XDocument.Load(Path.Combine(TestServer.RepoRoot, project)).Descendants("AssemblyName").Single().Value;

        // The runtime stage: the published folder, a numeric non-root user, the server's assembly as the entry point.
        Assert.Equal("--from=build /app/ ./", Assert.Single(runtime, i => i.Keyword == "COPY").Arguments);
        Assert.Equal("/app", Assert.Single(runtime, i => i.Keyword == "WORKDIR").Arguments);
        var user = Assert.Single(runtime, i => i.Keyword == "USER").Arguments;
        Assert.Matches("^[0-9]+:[0-9]+$", user);
        Assert.NotEqual("0", user.Split(':')[0]);
        Assert.Equal($"[\"dotnet\", \"/app/{assembly}.dll\"]", Assert.Single(runtime, i => i.Keyword == "ENTRYPOINT").Arguments);
        // What `dotnet publish` lays out for a framework-dependent app: the assembly and its runtime config (this build's copies).
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, assembly + ".dll")));
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, assembly + ".runtimeconfig.json")));
        var port = Assert.Single(runtime, i => i.Keyword == "EXPOSE").Arguments;
        var cmd = Assert.Single(runtime, i => i.Keyword == "CMD").Arguments;
        Assert.Contains($"--Ksctl:Server:Port={port}", cmd);
        var home = Regex.Match(Assert.Single(runtime, i => i.Keyword == "ENV").Arguments, @"KSCTL_HOME=(\S+)").Groups[1].Value;
        Assert.Contains($"--Ksctl:Server:Home={home}", cmd);

        // The Deployment runs this image as this user, on this port, with KSCTL_HOME on a volume (its root filesystem is read-only).
        var deployment = Yaml(Path.Combine(TestServer.RepoRoot, "deploy", "kubernetes", "deployment.yaml"));
        var pod = Map(Map(Map(deployment, "spec"), "template"), "spec");
        Assert.Equal(user.Split(':')[0], Scalar(Map(pod, "securityContext"), "runAsUser"));
        var container = (YamlMappingNode)((YamlSequenceNode)pod.Children[new YamlScalarNode("containers")]).Children.Single();
        Assert.Equal($"ksctl-server:{Version()}", Scalar(container, "image"));
        Assert.Contains($"-t ksctl-server:{Version()}", File.ReadAllText(Path.Combine(Folder, "Dockerfile")));
        var containerPort = ((YamlSequenceNode)container.Children[new YamlScalarNode("ports")]).Children.Cast<YamlMappingNode>().Single();
        Assert.Equal(port, Scalar(containerPort, "containerPort"));
        var args = ((YamlSequenceNode)container.Children[new YamlScalarNode("args")]).Children.Cast<YamlScalarNode>().Select(a => a.Value).ToList();
        Assert.Contains($"--Ksctl:Server:Port={port}", args);
        Assert.Contains($"--Ksctl:Server:Home={home}", args);
        var mounts = ((YamlSequenceNode)container.Children[new YamlScalarNode("volumeMounts")]).Children.Cast<YamlMappingNode>().Select(m => Scalar(m, "mountPath")).ToList();
        Assert.Contains(home, mounts);
        Assert.Contains("/tmp", mounts);
    }

    [GeneratedRegex(@"^dotnet publish (\S+)")]
    private static partial Regex PublishedProject();

    /// <summary>The project and every project it references, transitively.</summary>
    private static IEnumerable<string> ProjectClosure(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([Path.GetFullPath(project)]);
        while (pending.TryPop(out var next))
        {
            if (!seen.Add(next)) continue;
            foreach (var reference in XDocument.Load(next).Descendants("ProjectReference"))
                pending.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(next)!, reference.Attribute("Include")!.Value.Replace('\\', '/'))));
        }
        return seen;
    }

    private static string Version() => XDocument.Load(Path.Combine(TestServer.RepoRoot, "Directory.Build.props")).Descendants("Version").Single().Value;

    private static YamlMappingNode Yaml(string path)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(path)));
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    private static YamlMappingNode Map(YamlMappingNode node, string key) => (YamlMappingNode)node.Children[new YamlScalarNode(key)];

    private static string Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)node.Children[new YamlScalarNode(key)]).Value!;
}
