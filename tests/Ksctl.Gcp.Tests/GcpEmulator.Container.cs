using Microsoft.AspNetCore.Http;

namespace Ksctl.Gcp.Tests;

public sealed partial class GcpEmulator
{
    private Task ContainerAsync(HttpContext ctx, ServiceAccount account, string[] s) =>
        Error(ctx, 404, "notFound", "NOT_FOUND", "GKE is not emulated yet.");
}
