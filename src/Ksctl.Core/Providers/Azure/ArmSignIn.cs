using Azure;
using Azure.Identity;
using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Providers.Azure;

/// <summary>
/// Turns token and transport failures into Ksctl errors: a bad secret is KsctlAuthenticationFailed with Entra's
/// reason, an Entra that never answered is a connection error, and ARM's refusals keep their code and message.
/// </summary>
internal static class ArmSignIn
{
    public static async Task<T> Call<T>(string what, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (AuthenticationFailedException e) when (Unreachable(e))
        {
            // Entra never answered: a network problem, not a wrong credential.
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ConnectionError, $"Cannot reach Microsoft Entra ID to sign in: {SignInReason(e)}", "Azure", e)
            {
                RecommendedAction = "Check the network path (proxy, DNS, firewall) to login.microsoftonline.com and management.azure.com, then run the command again.",
            };
        }
        catch (AuthenticationFailedException e)
        {
            throw new KsctlException("KsctlAuthenticationFailed", KsctlErrorCategory.AuthenticationError, $"Azure sign-in failed: {SignInReason(e)}", "Azure", e)
            {
                RecommendedAction = "Check the client id, tenant id and secret (-Credential/-TenantId, Set-KsctlCredential -Provider Azure, or AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET), or sign in with Connect-AzAccount / az login.",
            };
        }
        catch (RequestFailedException e) when (e.Status == 0)
        {
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ConnectionError, $"Cannot reach Azure Resource Manager for {what}: {FirstLine(e.Message)}", "Azure", e);
        }
        catch (RequestFailedException e)
        {
            var error = ArmError.Parse(e.GetRawResponse()?.Content?.ToString()) ?? new ArmError(e.ErrorCode ?? e.Status.ToString(), FirstLine(e.Message));
            throw error.ToException(what, e.Status);
        }
    }

    public static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    /// <summary>
    /// Entra's own reason (AADSTS code and text) when there is one, else the credential's message on one line. The
    /// messages of Azure.Identity never contain the secret.
    /// </summary>
    public static string SignInReason(Exception e)
    {
        // Inner exceptions often repeat the outer message: keep each text once.
        var texts = new List<string>();
        foreach (var m in Chain(e).Select(x => x.Message.Trim()))
            if (!texts.Any(t => t.Contains(m, StringComparison.Ordinal))) texts.Add(m);
        var all = string.Join("\n", texts);
        var entra = System.Text.RegularExpressions.Regex.Match(all, @"AADSTS\d+:[^\r\n]*");
        var who = FirstLine(e.Message);
        var colon = who.IndexOf(':');
        if (entra.Success) return $"{(colon > 0 ? who[..colon] : "Entra ID")}: {entra.Value.Trim()}";
        var text = string.Join(" ", all.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return text.Length > 800 ? text[..800] + "…" : text;
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException) yield return x;
    }

    /// <summary>True when every attempt failed before any HTTP answer (DNS, refused or timed-out connections).</summary>
    private static bool Unreachable(Exception e)
    {
        static IEnumerable<Exception> All(Exception x) =>
            new[] { x }.Concat(x is AggregateException a ? a.InnerExceptions.SelectMany(All) : x.InnerException is { } i ? All(i) : []);
        var all = All(e).ToList();
        return all.Any(x => x is HttpRequestException or System.Net.Sockets.SocketException)
            && !all.Any(x => x is RequestFailedException { Status: > 0 } || x.Message.Contains("AADSTS", StringComparison.Ordinal));
    }
}
