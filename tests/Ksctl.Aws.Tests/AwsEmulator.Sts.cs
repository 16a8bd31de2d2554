namespace Ksctl.Aws.Tests;

/// <summary>
/// STS (query protocol, API version 2011-06-15, namespace https://sts.amazonaws.com/doc/2011-06-15/): GetCallerIdentity,
/// which needs no permission and answers Arn, UserId and Account (AWS STS API reference, GetCallerIdentity; the shape
/// from the sts service model). It also serves a presigned GET (Action and Version in the query string), the form the
/// EKS token carries. Answers are XML only, whatever Accept asks for: STS's model declares the query protocol alone
/// (botocore data/sts/2011-06-15/service-2.json metadata.protocol "query", no "protocols" list offering awsJson1_0
/// as the services moved to JSON list), so the real service has no JSON form to give.
/// </summary>
public sealed partial class AwsEmulator
{
    private static readonly HashSet<string> StsActions = ["GetCallerIdentity"];

    [AwsService("sts", AwsProtocol.Query, XmlNamespace = "https://sts.amazonaws.com/doc/2011-06-15/", ApiVersion = "2011-06-15")]
    private async Task StsAsync(AwsCall call)
    {
        if (!await QueryEnvelopeAsync(call, StsActions)) return;
        var userId = call.Caller.SessionToken is null ? $"AIDA{call.Caller.AccessKeyId[4..]}" : $"AROA{call.Caller.AccessKeyId[4..]}:ksctl";
        await Xml(call, $"<Arn>{X(call.Caller.Arn)}</Arn><UserId>{X(userId)}</UserId><Account>{call.Caller.Account}</Account>");
    }
}
