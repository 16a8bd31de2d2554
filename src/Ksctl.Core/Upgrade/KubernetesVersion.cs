using System.Globalization;
using System.Text.RegularExpressions;

namespace Ksctl.Core.Upgrade;

/// <summary>
/// A Kubernetes version as the skew rules compare it: major.minor and an optional patch. A distribution's suffix
/// (K3s's "+k3s1", Civo's "-k3s1") and a leading "v" are accepted and ignored for the comparison.
/// </summary>
public readonly record struct KubernetesVersion(int Major, int Minor, int? Patch) : IComparable<KubernetesVersion>
{
    private static readonly Regex Form = new(@"^v?(?<major>[0-9]{1,3})\.(?<minor>[0-9]{1,3})(\.(?<patch>[0-9]{1,4}))?([-+][0-9A-Za-z.+-]{1,40})?\z", RegexOptions.CultureInvariant);

    public static bool TryParse(string? text, out KubernetesVersion version)
    {
        version = default;
        if (text is null) return false;
        var m = Form.Match(text);
        if (!m.Success) return false;
        version = new KubernetesVersion(
            int.Parse(m.Groups["major"].Value, CultureInfo.InvariantCulture),
            int.Parse(m.Groups["minor"].Value, CultureInfo.InvariantCulture),
            m.Groups["patch"].Success ? int.Parse(m.Groups["patch"].Value, CultureInfo.InvariantCulture) : null);
        return true;
    }

    /// <summary>A missing patch compares as 0 (AKS's "1.30" means the latest 1.30 patch only to AKS itself).</summary>
    public int CompareTo(KubernetesVersion other)
    {
        var c = Major.CompareTo(other.Major);
        if (c == 0) c = Minor.CompareTo(other.Minor);
        if (c == 0) c = (Patch ?? 0).CompareTo(other.Patch ?? 0);
        return c;
    }

    public string MinorText => $"{Major}.{Minor}";

    public override string ToString() => Patch is null ? MinorText : $"{MinorText}.{Patch}";
}
