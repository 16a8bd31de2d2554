using System.Collections.Concurrent;
using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ksctl.Aws.Tests;

/// <summary>The wire protocols of the AWS services Ksctl calls (each service model's <c>metadata.protocol</c>).</summary>
public enum AwsProtocol
{
    /// <summary>EC2's query protocol ("ec2"): form-encoded Action/Version, XML answers, errors <c>&lt;Response&gt;&lt;Errors&gt;</c>.</summary>
    Ec2Query,
    /// <summary>The query protocol of STS and IAM ("query"): XML answers, errors <c>&lt;ErrorResponse&gt;&lt;Error&gt;</c>.</summary>
    Query,
    /// <summary>JSON 1.1 (SSM): X-Amz-Target, errors <c>{"__type","message"}</c> and the x-amzn-ErrorType header.</summary>
    Json,
    /// <summary>REST-JSON (EKS): resources in the path, errors <c>{"message"}</c> with the code in x-amzn-ErrorType.</summary>
    RestJson,
}

/// <summary>
/// Marks a method of <see cref="AwsEmulator"/> (any partial file) as the handler of one service, by the service name the
/// signature's credential scope carries. The emulator finds them at start: a new service is a new partial file
/// (AwsEmulator.Iam.cs, AwsEmulator.Eks.cs) with one such method, and no other file changes. The method's signature is
/// <c>Task Name(AwsCall call)</c>; it answers through <see cref="AwsEmulator.Xml"/>, <see cref="AwsEmulator.Json"/> or
/// <see cref="AwsEmulator.Fail"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AwsServiceAttribute(string service, AwsProtocol protocol) : Attribute
{
    public string Service { get; } = service;
    public AwsProtocol Protocol { get; } = protocol;
    /// <summary>The XML namespace of the query protocols' answers (the service model's xmlNamespace).</summary>
    public string? XmlNamespace { get; init; }
    /// <summary>The API version the query protocols require in Version (the service model's apiVersion).</summary>
    public string? ApiVersion { get; init; }
    /// <summary>JSON 1.1: the X-Amz-Target prefix (the service model's targetPrefix).</summary>
    public string? TargetPrefix { get; init; }
    /// <summary>Global services (IAM) sign for this region only.</summary>
    public string? SigningRegion { get; init; }
}

/// <summary>
/// An in-process AWS: one HTTP endpoint on 127.0.0.1 (a free port) for every service, as AWS would be behind one
/// proxy. Each request's SigV4 signature is recomputed from the known secret (AwsEmulator.SigV4.cs) and a bad one is
/// refused with the service's own error; the service is read from the signature's credential scope and the request
/// goes to the handler that service registered (<see cref="AwsServiceAttribute"/>). Faults are injected per service
/// and action (AwsEmulator.Faults.cs). What exists is the <see cref="Inventory"/>; <see cref="Creates"/> counts
/// creations per resource kind, so tests can prove each resource was made once.
/// <para>Upstream sources: the SigV4 rules from docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html and
/// reference_sigv-troubleshooting.html; the protocols and error shapes from the service models in aws/aws-sdk-net
/// (generator/ServiceModels/*/​*.normal.json: metadata.protocol, xmlNamespace, targetPrefix) and botocore's
/// data/*/service-2.json; the common errors from the EC2 API reference "Error codes", STS's and IAM's "Common Errors",
/// and the JSON services' __type convention. Each service file names its own sources.</para>
/// </summary>
public sealed partial class AwsEmulator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Dictionary<string, (AwsServiceAttribute Info, Func<AwsCall, Task> Handle)> _services = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<string, AwsResource> _resources = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _creates = new(StringComparer.Ordinal);
    private long _requestCounter;

    public sealed record Principal(string AccessKeyId, string Secret, string Account, string Arn, string? SessionToken = null)
    {
        /// <summary>Actions refused to this principal (UnauthorizedOperation / AccessDenied), as "service:Action".</summary>
        public HashSet<string> Denied { get; } = new(StringComparer.OrdinalIgnoreCase);
    }

    public sealed record Request(string Service, string? Action, string Method, string Path, int Status, string? ErrorCode, string? AccessKeyId);

    public const string Account = "123456789012";
    public const string AccessKeyId = "AKIAKSCTLEMULATOR001";
    public const string SecretKey = "emulator/Secret+Key/0123456789abcdefghijklm";

    private AwsEmulator()
    {
        Principals[AccessKeyId] = new Principal(AccessKeyId, SecretKey, Account, $"arn:aws:iam::{Account}:user/ksctl-tests");
        foreach (var method in typeof(AwsEmulator).GetMethods(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public))
            if (method.GetCustomAttribute<AwsServiceAttribute>() is { } info)
                _services.Add(info.Service, (info, method.CreateDelegate<Func<AwsCall, Task>>(this)));
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.Run(async ctx =>
        {
            AwsCall? call = null;
            try
            {
                // The unsigned credential endpoints (SSO portal, IMDS, container, STS web identity) first.
                if (!await CredentialSourceAsync(ctx))
                {
                    call = await ReceiveAsync(ctx);
                    if (call is not null) await DispatchAsync(call);
                }
            }
            catch (Exception e) when (!ctx.Response.HasStarted && e is not OperationCanceledException)
            {
                ctx.Response.StatusCode = 500;
                await ctx.Response.WriteAsync("emulator: " + e);
            }
            Record(ctx, call);
        });
    }

    private void Record(HttpContext ctx, AwsCall? call) =>
        Requests.Enqueue(new Request(call?.Service ?? ctx.Items["service"] as string ?? "?", call?.Action ?? ctx.Items["action"] as string, ctx.Request.Method,
            ctx.Request.Path + ctx.Request.QueryString, ctx.Response.StatusCode, ctx.Items["error"] as string, call?.Caller?.AccessKeyId ?? ctx.Items["key"] as string));

    public static async Task<AwsEmulator> StartAsync()
    {
        var emulator = new AwsEmulator();
        await emulator._app.StartAsync();
        var address = emulator._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        emulator.BaseUrl = new Uri(address.TrimEnd('/') + "/");
        return emulator;
    }

    public Uri BaseUrl { get; private set; } = null!;
    /// <summary>Access key id → who it is. Tests add keys (a session's, a profile's) or remove them.</summary>
    public ConcurrentDictionary<string, Principal> Principals { get; } = new(StringComparer.Ordinal);
    public ConcurrentQueue<Request> Requests { get; } = new();
    /// <summary>The emulator's clock for the signature's 15-minute window.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;
    /// <summary>The services the handlers registered (by signing name).</summary>
    public IReadOnlyCollection<string> Services => _services.Keys;

    /// <summary>What exists now, every service's resources.</summary>
    public IReadOnlyList<AwsResource> Inventory => _resources.Values.Where(r => !r.Gone).OrderBy(r => r.Id, StringComparer.Ordinal).ToList();
    /// <summary>How many times a resource of each kind was created ("vpc", "instance", "role"...): a duplicate shows here.</summary>
    public IReadOnlyDictionary<string, int> Creates => _creates;

    public int Count(string service, string? action = null) =>
        Requests.Count(r => r.Service == service && (action is null || r.Action == action) && r.Status < 400);

    /// <summary>Adds a resource to the inventory (and counts its creation).</summary>
    public AwsResource Add(AwsResource resource)
    {
        if (!_resources.TryAdd(resource.Id, resource)) throw new InvalidOperationException($"emulator: {resource.Id} exists twice.");
        _creates.AddOrUpdate(resource.Kind, 1, (_, n) => n + 1);
        return resource;
    }

    /// <summary>A live resource by id, or null.</summary>
    public AwsResource? Find(string id) => _resources.TryGetValue(id, out var r) && !r.Gone ? r : null;

    /// <summary>Live resources of a kind in a region (null: any region).</summary>
    public IEnumerable<AwsResource> All(string kind, string? region = null) =>
        _resources.Values.Where(r => !r.Gone && r.Kind == kind && (region is null || r.Region == region)).OrderBy(r => r.Created);

    public void Remove(string id) => _resources.TryRemove(id, out _);

    /// <summary>A new id in AWS's form: the prefix and 17 hex digits (vpc-0a1b..., i-0123...).</summary>
    public string NewId(string prefix) => $"{prefix}-{Interlocked.Increment(ref _idCounter):x17}";
    private long _idCounter = 0x0a0000000000000;

    private async Task DispatchAsync(AwsCall call)
    {
        if (await InjectedFaultAsync(call)) return;
        var handler = _services[call.Service].Handle;
        // A lost answer: the handler acts, its answer goes nowhere, and the connection is cut. Only a call the caller
        // may make (an authorised one) loses its answer this way: a refused one is answered.
        var drop = !call.Caller.Denied.Contains($"{call.Service}:{call.Action ?? ActionOf(call)}") && TakeDrop(call);
        if (drop) call.Http.Response.Body = Stream.Null;
        await handler(call);
        if (drop) call.Http.Abort();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    internal string NextRequestId() => $"{Guid.NewGuid()}".Replace("-", "")[..8] + $"-{Interlocked.Increment(ref _requestCounter):x4}-4000-8000-000000000000";
}

/// <summary>One resource the emulator holds (any service): its kind, id, region, owner, tags and the service's own fields.</summary>
public sealed class AwsResource
{
    public required string Kind { get; init; }
    public required string Id { get; init; }
    public required string Region { get; init; }
    public string Owner { get; init; } = AwsEmulator.Account;
    public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;
    public ConcurrentDictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);
    /// <summary>The service's fields (state, cidr, attachments...), under the resource's own lock.</summary>
    public Dictionary<string, object?> Fields { get; } = new(StringComparer.Ordinal);
    /// <summary>Deleted, but still answered for a while (terminated instances stay visible, as in EC2).</summary>
    public bool Gone { get; set; }
    public override string ToString() => $"{Kind} {Id}";
}
