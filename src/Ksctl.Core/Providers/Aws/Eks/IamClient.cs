using System.Xml.Linq;
using Amazon.Runtime;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Aws.Eks;

/// <summary>A role as IAM describes it (the parts Ksctl uses).</summary>
internal sealed record IamRole(string Name, string Arn, IReadOnlyDictionary<string, string> Tags);

/// <summary>
/// The IAM calls Ksctl needs for EKS, over the IAM query protocol (form-encoded POST with Action and
/// Version=2010-05-08, XML answers in the https://iam.amazonaws.com/doc/2010-05-08/ namespace, errors as
/// ErrorResponse/Error/Code), as botocore data/iam/2010-05-08/service-2.json defines them. There is no IAM package
/// among the AWS SDK packages Ksctl uses, so the requests are built here and signed by the SDK's signer.
/// </summary>
internal sealed class IamClient : IDisposable
{
    public const string Version = "2010-05-08";
    private static readonly XNamespace Ns = "https://iam.amazonaws.com/doc/2010-05-08/";
    private readonly AwsSignedClient _client;

    public IamClient(EksEndpoints endpoints, AWSCredentials credentials, EksTimings timings, ILogger logger) =>
        _client = new AwsSignedClient("iam", endpoints.IamSigningRegion, endpoints.Iam, credentials, endpoints.Handler?.Invoke(), timings, logger, ParseError);

    public async Task<IamRole> CreateRoleAsync(string name, string trustPolicy, string description, IReadOnlyDictionary<string, string> tags, CancellationToken ct)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("RoleName", name), new("AssumeRolePolicyDocument", trustPolicy), new("Description", description),
        };
        var i = 1;
        foreach (var (key, value) in tags)
        {
            form.Add(new($"Tags.member.{i}.Key", key));
            form.Add(new($"Tags.member.{i}.Value", value));
            i++;
        }
        var doc = await CallAsync("CreateRole", form, ct).ConfigureAwait(false);
        return ReadRole(doc.Descendants(Ns + "Role").First());
    }

    /// <summary>The role, or null when IAM says NoSuchEntity.</summary>
    public async Task<IamRole?> GetRoleAsync(string name, CancellationToken ct)
    {
        try
        {
            var doc = await CallAsync("GetRole", [new("RoleName", name)], ct).ConfigureAwait(false);
            return ReadRole(doc.Descendants(Ns + "Role").First());
        }
        catch (AwsApiException e) when (e.Code == "NoSuchEntity") { return null; }
    }

    public Task AttachRolePolicyAsync(string role, string policyArn, CancellationToken ct) =>
        CallAsync("AttachRolePolicy", [new("RoleName", role), new("PolicyArn", policyArn)], ct);

    public Task DetachRolePolicyAsync(string role, string policyArn, CancellationToken ct) =>
        CallAsync("DetachRolePolicy", [new("RoleName", role), new("PolicyArn", policyArn)], ct);

    /// <summary>Every managed policy attached to the role (all pages: Marker/IsTruncated).</summary>
    public async Task<IReadOnlyList<string>> ListAttachedRolePoliciesAsync(string role, CancellationToken ct)
    {
        var arns = new List<string>();
        string? marker = null;
        do
        {
            var form = new List<KeyValuePair<string, string>> { new("RoleName", role) };
            if (marker is not null) form.Add(new("Marker", marker));
            var doc = await CallAsync("ListAttachedRolePolicies", form, ct).ConfigureAwait(false);
            arns.AddRange(doc.Descendants(Ns + "PolicyArn").Select(e => e.Value));
            var truncated = doc.Descendants(Ns + "IsTruncated").FirstOrDefault()?.Value == "true";
            marker = truncated ? doc.Descendants(Ns + "Marker").FirstOrDefault()?.Value : null;
        }
        while (marker is not null);
        return arns;
    }

    public Task DeleteRoleAsync(string role, CancellationToken ct) => CallAsync("DeleteRole", [new("RoleName", role)], ct);

    private async Task<XDocument> CallAsync(string action, IReadOnlyList<KeyValuePair<string, string>> parameters, CancellationToken ct)
    {
        var form = new List<KeyValuePair<string, string>> { new("Action", action), new("Version", Version) };
        form.AddRange(parameters);
        var text = await _client.SendAsync(action, () => new HttpRequestMessage(HttpMethod.Post, _client.Endpoint)
        {
            Content = new FormUrlEncodedContent(form),
        }, ct).ConfigureAwait(false);
        try { return XDocument.Parse(text); }
        catch (System.Xml.XmlException e)
        {
            throw new Diagnostics.KsctlException("KsctlCloudApiError", Diagnostics.KsctlErrorCategory.InvalidResult, $"IAM {action} returned a response Ksctl cannot read: {e.Message}", "IAM", e);
        }
    }

    private static IamRole ReadRole(XElement role)
    {
        var tags = role.Element(Ns + "Tags")?.Elements(Ns + "member")
            .ToDictionary(m => m.Element(Ns + "Key")?.Value ?? "", m => m.Element(Ns + "Value")?.Value ?? "") ?? new Dictionary<string, string>();
        return new IamRole(role.Element(Ns + "RoleName")?.Value ?? "", role.Element(Ns + "Arn")?.Value ?? "", tags);
    }

    /// <summary>ErrorResponse/Error/{Code,Message} (the query protocol's error shape; namespace optional).</summary>
    internal static (string? Code, string? Message) ParseError(HttpResponseMessage response, string text)
    {
        try
        {
            var doc = XDocument.Parse(text);
            var error = doc.Descendants().FirstOrDefault(e => e.Name.LocalName == "Error");
            return (error?.Elements().FirstOrDefault(e => e.Name.LocalName == "Code")?.Value,
                error?.Elements().FirstOrDefault(e => e.Name.LocalName == "Message")?.Value);
        }
        catch (System.Xml.XmlException) { return (null, string.IsNullOrWhiteSpace(text) ? response.ReasonPhrase : text.Trim()); }
    }

    public void Dispose() => _client.Dispose();
}
