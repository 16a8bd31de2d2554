using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace Ksctl.Aws.Tests;

/// <summary>
/// SSM Parameter Store (JSON 1.1, target prefix AmazonSSM): GetParameter and GetParameters, as the ssm service model and
/// API reference define them: Name required (1-2048 characters), WithDecryption optional; an unknown name is
/// ParameterNotFound (GetParameter) or listed in InvalidParameters (GetParameters, at most 10 names). The public
/// parameters AWS publishes include Canonical's Ubuntu AMI ids
/// (/aws/service/canonical/ubuntu/server/24.04/stable/current/{amd64,arm64}/hvm/ebs-gp3/ami-id, documented at
/// documentation.ubuntu.com/aws/en/latest/aws-how-to/instances/find-ubuntu-images/); the emulator publishes them per
/// region, pointing at images it also knows in EC2.
/// </summary>
public sealed partial class AwsEmulator
{
    private static readonly HashSet<string> SsmOperations = ["GetParameter", "GetParameters"];
    public const string UbuntuParameter = "/aws/service/canonical/ubuntu/server/24.04/stable/current/{0}/hvm/ebs-gp3/ami-id";

    /// <summary>Parameters by (region, name) → value; the Ubuntu ones are added per region on first use.</summary>
    public ConcurrentDictionary<(string Region, string Name), string> Parameters { get; } = new();

    /// <summary>The AMI id the Ubuntu 24.04 parameter gives in a region for an architecture ("amd64"/"arm64").</summary>
    public string UbuntuAmi(string region, string architecture) =>
        Parameters.GetOrAdd((region, string.Format(UbuntuParameter, architecture)), _ => $"ami-{Math.Abs(HashCode.Combine(region, architecture)) % 0xffffff:x6}0ca0{(architecture == "arm64" ? "a" : "b")}1ce0");

    [AwsService("ssm", AwsProtocol.Json, TargetPrefix = "AmazonSSM")]
    private async Task SsmAsync(AwsCall call)
    {
        if (!await JsonEnvelopeAsync(call, SsmOperations)) return;
        foreach (var arch in new[] { "amd64", "arm64" }) UbuntuAmi(call.Region, arch);
        if (call.Action == "GetParameter")
        {
            var name = call.JsonBody?["Name"]?.GetValue<string>();
            if (name is not { Length: >= 1 and <= 2048 })
            {
                await Fail(call, 400, "ValidationException", "1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length between 1 and 2048");
                return;
            }
            if (!Parameters.TryGetValue((call.Region, name), out var value))
            {
                await Fail(call, 400, "ParameterNotFound", "");
                return;
            }
            await Json(call, new JsonObject { ["Parameter"] = ParameterJson(call.Region, name, value) });
            return;
        }
        var names = call.JsonBody?["Names"]?.AsArray().Select(n => n!.GetValue<string>()).ToList() ?? [];
        if (names.Count is < 1 or > 10)
        {
            await Fail(call, 400, "ValidationException", "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10");
            return;
        }
        var found = new JsonArray();
        var invalid = new JsonArray();
        foreach (var name in names)
            if (Parameters.TryGetValue((call.Region, name), out var value)) found.Add(ParameterJson(call.Region, name, value));
            else invalid.Add(name);
        await Json(call, new JsonObject { ["InvalidParameters"] = invalid, ["Parameters"] = found });
    }

    private static JsonObject ParameterJson(string region, string name, string value) => new()
    {
        ["ARN"] = $"arn:aws:ssm:{region}::parameter{name}",
        ["DataType"] = name.EndsWith("/ami-id", StringComparison.Ordinal) ? "aws:ec2:image" : "text",
        ["LastModifiedDate"] = 1.7641728E9,
        ["Name"] = name,
        ["Type"] = "String",
        ["Value"] = value,
        ["Version"] = 42,
    };
}
