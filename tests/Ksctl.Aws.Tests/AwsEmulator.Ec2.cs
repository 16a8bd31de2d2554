using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Ksctl.Aws.Tests;

/// <summary>
/// EC2 (query protocol "ec2", API version 2016-11-15, namespace http://ec2.amazonaws.com/doc/2016-11-15/). The
/// actions Ksctl uses, with the parameters, answers and errors of the EC2 service model (aws-sdk-net
/// generator/ServiceModels/ec2/ec2-2016-11-15.normal.json; botocore data/ec2/2016-11-15/service-2.json) and the EC2 API
/// reference: "Error codes for the Amazon EC2 API" (MissingParameter, InvalidParameterValue, InvalidParameterCombination,
/// Invalid*ID.NotFound, DependencyViolation, InsufficientInstanceCapacity, UnauthorizedOperation, RequestLimitExceeded,
/// IdempotentParameterMismatch, *.Duplicate), "Eventual consistency" (an instance is not visible to DescribeInstances
/// right after RunInstances: <see cref="InstanceVisibilityLag"/>), "Ensure idempotency" (RunInstances' ClientToken, at
/// most 64 ASCII characters), "Filtering" (Filter.N.Name / Filter.N.Value.M, tag:key, unknown filter names refused), and
/// "Tag your resources" (TagSpecification.N.ResourceType must be a type the action creates; keys 1-128, values 0-256,
/// at most 50, no "aws:" prefix). Resources live in one region: another region does not see them.
/// Split: AwsEmulator.Ec2Network.cs (VPC, subnet, gateway, routes), AwsEmulator.Ec2Groups.cs (security groups, key
/// pairs), AwsEmulator.Ec2Instances.cs (instances and their boot).
/// </summary>
public sealed partial class AwsEmulator
{
    public const string Ec2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/";

    private static readonly Dictionary<string, Func<AwsEmulator, AwsCall, Task>> Ec2Actions = new(StringComparer.Ordinal)
    {
        ["CreateVpc"] = (e, c) => e.CreateVpcAsync(c), ["DescribeVpcs"] = (e, c) => e.DescribeVpcsAsync(c), ["DeleteVpc"] = (e, c) => e.DeleteVpcAsync(c),
        ["CreateSubnet"] = (e, c) => e.CreateSubnetAsync(c), ["DescribeSubnets"] = (e, c) => e.DescribeSubnetsAsync(c), ["DeleteSubnet"] = (e, c) => e.DeleteSubnetAsync(c),
        ["CreateInternetGateway"] = (e, c) => e.CreateGatewayAsync(c), ["AttachInternetGateway"] = (e, c) => e.AttachGatewayAsync(c),
        ["DetachInternetGateway"] = (e, c) => e.DetachGatewayAsync(c), ["DeleteInternetGateway"] = (e, c) => e.DeleteGatewayAsync(c),
        ["DescribeInternetGateways"] = (e, c) => e.DescribeGatewaysAsync(c),
        ["CreateRouteTable"] = (e, c) => e.CreateRouteTableAsync(c), ["CreateRoute"] = (e, c) => e.CreateRouteAsync(c),
        ["AssociateRouteTable"] = (e, c) => e.AssociateRouteTableAsync(c), ["DisassociateRouteTable"] = (e, c) => e.DisassociateRouteTableAsync(c),
        ["DeleteRouteTable"] = (e, c) => e.DeleteRouteTableAsync(c), ["DescribeRouteTables"] = (e, c) => e.DescribeRouteTablesAsync(c),
        ["CreateSecurityGroup"] = (e, c) => e.CreateGroupAsync(c), ["AuthorizeSecurityGroupIngress"] = (e, c) => e.AuthorizeIngressAsync(c),
        ["DescribeSecurityGroups"] = (e, c) => e.DescribeGroupsAsync(c), ["DeleteSecurityGroup"] = (e, c) => e.DeleteGroupAsync(c),
        ["ImportKeyPair"] = (e, c) => e.ImportKeyPairAsync(c), ["DescribeKeyPairs"] = (e, c) => e.DescribeKeyPairsAsync(c), ["DeleteKeyPair"] = (e, c) => e.DeleteKeyPairAsync(c),
        ["RunInstances"] = (e, c) => e.RunInstancesAsync(c), ["DescribeInstances"] = (e, c) => e.DescribeInstancesAsync(c),
        ["TerminateInstances"] = (e, c) => e.TerminateInstancesAsync(c),
        ["DescribeRegions"] = (e, c) => e.DescribeRegionsAsync(c), ["DescribeInstanceTypeOfferings"] = (e, c) => e.DescribeOfferingsAsync(c),
    };

    [AwsService("ec2", AwsProtocol.Ec2Query, XmlNamespace = Ec2Namespace, ApiVersion = "2016-11-15")]
    private async Task Ec2Async(AwsCall call)
    {
        if (!await QueryEnvelopeAsync(call, Ec2Actions.Keys.ToHashSet())) return;
        if (call.Caller.Denied.Contains($"ec2:{call.Action}"))
        {
            await Fail(call, 403, "UnauthorizedOperation",
                $"You are not authorized to perform this operation. User: {call.Caller.Arn} is not authorized to perform: ec2:{call.Action} because no identity-based policy allows the ec2:{call.Action} action. Encoded authorization failure message: {Convert.ToBase64String(Encoding.UTF8.GetBytes(call.Action!))[..8]}AuthzDenied");
            return;
        }
        try
        {
            await Ec2Actions[call.Action!](this, call);
        }
        catch (Ec2Fault f)
        {
            await Fail(call, f.Status, f.Code, f.Message);
        }
    }

    /// <summary>An EC2 error raised inside a handler (400 unless said otherwise).</summary>
    private sealed class Ec2Fault(string code, string message, int status = 400) : Exception(message)
    {
        public string Code { get; } = code;
        public int Status { get; } = status;
    }

    private static string Required(AwsCall call, string name) =>
        call.Param(name) is { Length: > 0 } v ? v : throw new Ec2Fault("MissingParameter", $"The request must contain the parameter {name}");

    private AwsResource Existing(AwsCall call, string kind, string id, string notFoundCode, string noun)
    {
        lock (_gate)
            return All(kind, call.Region).FirstOrDefault(r => r.Id == id)
                ?? throw new Ec2Fault(notFoundCode, $"The {noun} ID '{id}' does not exist");
    }

    /// <summary>TagSpecification.N for the resource type an action creates → the tags (validated).</summary>
    private static Dictionary<string, string> TagsFor(AwsCall call, string resourceType)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var spec in call.Structures("TagSpecification"))
        {
            var type = spec.GetValueOrDefault("ResourceType");
            if (type is null) throw new Ec2Fault("MissingParameter", "The request must contain the parameter TagSpecification.ResourceType");
            var allowed = resourceType == "instance" ? new[] { "instance", "volume", "network-interface" } : [resourceType];
            if (!allowed.Contains(type)) throw new Ec2Fault("InvalidParameterValue", $"'{type}' is not a valid taggable resource type for this operation.");
            if (type != resourceType) continue;
            for (var i = 1; spec.TryGetValue($"Tag.{i}.Key", out var key); i++)
            {
                var value = spec.GetValueOrDefault($"Tag.{i}.Value") ?? "";
                if (key.Length is < 1 or > 128 || value.Length > 256) throw new Ec2Fault("InvalidParameterValue", $"Tag key must be 1-128 and value 0-256 characters: '{key}'.");
                if (key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase)) throw new Ec2Fault("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use");
                if (!tags.TryAdd(key, value)) throw new Ec2Fault("InvalidParameterValue", $"Duplicate tag key '{key}' specified.");
            }
        }
        if (tags.Count > 50) throw new Ec2Fault("TagLimitExceeded", "The maximum number of Tags for a resource has been reached.");
        return tags;
    }

    private static AwsResource Tagged(AwsResource r, Dictionary<string, string> tags)
    {
        foreach (var (k, v) in tags) r.Tags[k] = v;
        return r;
    }

    /// <summary>Filter.N.Name/Value.M: <paramref name="known"/> maps each filter name this action supports to the values it matches.</summary>
    private static List<AwsResource> Filtered(AwsCall call, IEnumerable<AwsResource> resources, Dictionary<string, Func<AwsResource, IEnumerable<string?>>> known)
    {
        var result = resources.ToList();
        foreach (var filter in call.Structures("Filter"))
        {
            var name = filter.GetValueOrDefault("Name") ?? throw new Ec2Fault("InvalidParameterValue", "The filter 'null' is invalid");
            var values = filter.Where(p => p.Key.StartsWith("Value.", StringComparison.Ordinal)).Select(p => p.Value).ToHashSet(StringComparer.Ordinal);
            Func<AwsResource, IEnumerable<string?>> get = name.StartsWith("tag:", StringComparison.Ordinal)
                ? r => [r.Tags.GetValueOrDefault(name[4..])]
                : name == "tag-key" ? r => r.Tags.Keys
                : known.TryGetValue(name, out var g) ? g : throw new Ec2Fault("InvalidParameterValue", $"The filter '{name}' is invalid");
            result = result.Where(r => get(r).Any(v => v is not null && values.Contains(v))).ToList();
        }
        return result;
    }

    private static string TagSet(AwsResource r) =>
        "<tagSet>" + string.Concat(r.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"<item><key>{X(t.Key)}</key><value>{X(t.Value)}</value></item>")) + "</tagSet>";

    private static string Field(AwsResource r, string name) => r.Fields.TryGetValue(name, out var v) ? v?.ToString() ?? "" : "";

    private static readonly Regex Cidr = new(@"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2})$", RegexOptions.CultureInvariant);

    /// <summary>A CIDR block as (network, prefix length), or InvalidParameterValue.</summary>
    private static (uint Network, int Length) ParseCidr(string text, string parameter)
    {
        var m = Cidr.Match(text);
        if (!m.Success || !IPAddress.TryParse(text.Split('/')[0], out var ip) || int.Parse(m.Groups[5].Value) > 32)
            throw new Ec2Fault("InvalidParameterValue", $"Value ({text}) for parameter {parameter} is invalid. This is not a valid CIDR block.");
        var bytes = ip.GetAddressBytes();
        var value = (uint)(bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]);
        var length = int.Parse(m.Groups[5].Value);
        var mask = length == 0 ? 0u : uint.MaxValue << (32 - length);
        return (value & mask, length);
    }

    private static bool Within((uint Network, int Length) inner, (uint Network, int Length) outer) =>
        inner.Length >= outer.Length && (inner.Network & (outer.Length == 0 ? 0u : uint.MaxValue << (32 - outer.Length))) == outer.Network;

    private static string Address(uint value) => $"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}";
}
