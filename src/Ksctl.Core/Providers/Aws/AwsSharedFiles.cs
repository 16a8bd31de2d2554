using System.Reflection;
using Amazon.Runtime.CredentialManagement;

namespace Ksctl.Core.Providers.Aws;

/// <summary>
/// The SDK reads AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE once per process, in SharedCredentialsFile's static
/// constructor (aws-sdk-net sdk/src/Core/Amazon.Runtime/CredentialManagement/SharedCredentialsFile.cs), and only if
/// the file existed then. A PowerShell session lives long: a user who sets $env:AWS_CONFIG_FILE after the module's
/// first AWS call (or creates ~/.aws/config later) would silently get the old files. Before each sign-in Ksctl
/// points the SDK's defaults at what the environment says now; the SDK's own logic does the rest.
/// </summary>
internal static class AwsSharedFiles
{
    private static readonly object Gate = new();

    public static void FollowEnvironment()
    {
        var home = Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } h ? h
            : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var config = Environment.GetEnvironmentVariable(SharedCredentialsFile.SharedConfigFileEnvVar) is { Length: > 0 } c ? c : Path.Combine(home, ".aws", "config");
        var credentials = Environment.GetEnvironmentVariable(SharedCredentialsFile.SharedCredentialsFileEnvVar) is { Length: > 0 } f ? f : Path.Combine(home, ".aws", "credentials");
        lock (Gate)
        {
            Set(nameof(SharedCredentialsFile.DefaultConfigFilePath), config);
            Set(nameof(SharedCredentialsFile.DefaultFilePath), credentials);
        }
    }

    private static void Set(string property, string value)
    {
        var setter = typeof(SharedCredentialsFile).GetProperty(property, BindingFlags.Public | BindingFlags.Static)?.GetSetMethod(nonPublic: true);
        if (setter is null || Equals(typeof(SharedCredentialsFile).GetProperty(property)!.GetValue(null), value)) return;
        setter.Invoke(null, [value]);
    }
}
