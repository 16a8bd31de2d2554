using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Ksctl.Azure.Tests;

/// <summary>
/// Resource provider registration, as a fresh subscription has it:
/// <list type="bullet">
/// <item>A request on a namespace the subscription has not registered is refused with 409 MissingSubscriptionRegistration,
///   "The subscription is not registered to use namespace '{ns}'. See https://aka.ms/rps-not-found for how to register
///   subscriptions." (learn.microsoft.com/azure/azure-resource-manager/troubleshooting/error-register-resource-provider).</item>
/// <item>POST /subscriptions/{s}/providers/{ns}/register (Providers_Register) answers the Provider with registrationState
///   "Registering"; GET /subscriptions/{s}/providers/{ns} (Providers_Get) reports it until it is "Registered"
///   (azure-rest-api-specs resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json; states
///   NotRegistered, Registering, Registered). Only then do the namespace's requests pass.</item>
/// </list>
/// Per test: <see cref="Unregistered"/> lists the namespaces not registered yet (none by default, as in a subscription
/// that has been used), <see cref="RegistrationPolls"/> how many GETs a registration takes.
/// </summary>
public sealed partial class ArmEmulator
{
    /// <summary>Namespaces the subscription has not registered (case-insensitive).</summary>
    public HashSet<string> Unregistered { get; } = new(StringComparer.OrdinalIgnoreCase);
    public int RegistrationPolls { get; set; } = 2;
    /// <summary>The principal lacks */register/action (a narrow custom role): Providers_Register answers 403 AuthorizationFailed.</summary>
    public bool RegistrationForbidden { get; set; }
    private readonly Dictionary<string, int> _registering = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A fresh subscription: the namespaces Ksctl uses are not registered.</summary>
    public void UseFreshSubscription()
    {
        lock (_gate) Unregistered.UnionWith(["Microsoft.ContainerService", "Microsoft.Network", "Microsoft.Compute"]);
    }

    /// <summary>Register/Get on /subscriptions/{s}/providers/{ns}[/register]; false when the path is no such request.</summary>
    private async Task<bool> ProviderRegistrationAsync(HttpContext ctx, string[] segments)
    {
        var isGet = segments.Length == 4 && segments[2] == "providers" && ctx.Request.Method == "GET";
        var isRegister = segments.Length == 5 && segments[2] == "providers" && segments[4] == "register" && ctx.Request.Method == "POST";
        if (!isGet && !isRegister) return false;
        var ns = segments[3];
        if (ApiVersionViolation("Microsoft.Resources/providers", "global", ctx.Request.Query["api-version"].ToString()) is { } badVersion)
        {
            await Error(ctx, 400, badVersion.Code, badVersion.Message);
            return true;
        }
        if (isRegister && RegistrationForbidden)
        {
            await Error(ctx, 403, "AuthorizationFailed",
                $"The client '{ClientId}' with object id '{ClientId}' does not have authorization to perform action '{ns}/register/action' over scope '/subscriptions/{segments[1]}' or the scope is invalid. If access was recently granted, please refresh your credentials.");
            return true;
        }
        string state;
        lock (_gate)
        {
            if (isRegister && Unregistered.Contains(ns) && !_registering.ContainsKey(ns)) _registering[ns] = RegistrationPolls;
            else if (isGet && _registering.TryGetValue(ns, out var left))
            {
                if (left <= 1) { _registering.Remove(ns); Unregistered.Remove(ns); }
                else _registering[ns] = left - 1;
            }
            state = !Unregistered.Contains(ns) ? "Registered" : _registering.ContainsKey(ns) ? "Registering" : "NotRegistered";
        }
        await Json(ctx, 200, new JsonObject
        {
            ["id"] = $"/subscriptions/{segments[1]}/providers/{ns}",
            ["namespace"] = ns,
            ["registrationState"] = state,
            ["registrationPolicy"] = "RegistrationRequired",
            ["resourceTypes"] = new JsonArray(),
        });
        return true;
    }

    /// <summary>The 409 for a request on an unregistered namespace (the registration calls themselves pass).</summary>
    private async Task<bool> RefuseUnregisteredAsync(HttpContext ctx, string[] segments)
    {
        var i = Array.FindIndex(segments, s => s.Equals("providers", StringComparison.OrdinalIgnoreCase));
        if (i < 0 || i + 1 >= segments.Length || i == 2 && segments.Length is 4 or 5 && (segments.Length == 4 || segments[4] == "register")) return false;
        var ns = segments[i + 1];
        bool unregistered;
        lock (_gate) unregistered = Unregistered.Contains(ns);
        if (!unregistered) return false;
        await Error(ctx, 409, "MissingSubscriptionRegistration",
            $"The subscription is not registered to use namespace '{ns}'. See https://aka.ms/rps-not-found for how to register subscriptions.");
        return true;
    }
}
