using Ksctl.Core.Backup;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Internal;

/// <summary>Core's backup descriptions as PowerShell objects.</summary>
internal static class BackupMapper
{
    public static KsctlBackup ToBackup(EtcdBackup b) => new()
    {
        Name = b.Cluster.Name,
        Provider = b.Cluster.Provider.ToString(),
        Type = b.Cluster.Type.ToString(),
        Region = b.Cluster.Region,
        Id = b.Id,
        CreatedAt = b.CreatedAt,
        Revision = b.Revision,
        TotalKeys = b.TotalKeys,
        Size = b.Size,
        Sha256 = b.Sha256,
        Member = b.Member,
        Location = b.Location,
    };
}
