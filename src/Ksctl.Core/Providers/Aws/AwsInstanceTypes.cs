using System.Text.RegularExpressions;
using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Providers.Aws;

/// <summary>
/// EC2 instance types: the current-generation ones Tab offers, the defaults, and the rule a typed name must follow
/// (<c>family.size</c>, docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html). Types outside the list
/// are accepted when they look like one: EC2 then says verbatim if the region lacks it.
/// </summary>
internal static class AwsInstanceTypes
{
    public const string ManagedNodeDefault = "t3.medium";
    public const string SelfManagedKubernetesVersion = "1.33.1";

    public static readonly string[] Common =
    [
        "t3.small", "t3.medium", "t3.large", "t3.xlarge", "t3a.medium", "t3a.large",
        "m7i.large", "m7i.xlarge", "m7i.2xlarge", "m6i.large", "m6i.xlarge",
        "c7i.large", "c7i.xlarge", "r7i.large", "r7i.xlarge",
        "t4g.medium", "t4g.large", "m7g.large", "m7g.xlarge", "c7g.large",
    ];

    // Family (letters, a generation digit, attribute letters, optional "-flex"), a dot, a size.
    private static readonly Regex Name = new(@"^[a-z]{1,4}\d[a-z0-9]{0,8}(-flex)?\.(nano|micro|small|medium|large|metal|\d{1,2}xlarge|xlarge|metal-\d{1,2}xl)\z", RegexOptions.CultureInvariant);

    /// <summary>The type, lower-cased, or <see cref="InvalidSpecException"/> naming <paramref name="parameter"/>.</summary>
    public static string Validate(string parameter, string value)
    {
        var type = value.Trim().ToLowerInvariant();
        return Name.IsMatch(type) ? type
            : throw new InvalidSpecException(parameter, $"'{value}' is not an EC2 instance type; use a name like {ManagedNodeDefault} or m7i.large (Tab completes the common ones).");
    }

    /// <summary>
    /// Graviton (arm64) families carry a 'g' after the generation digit (t4g, m7g, c7gn, r8g); their AMI is the arm64 build.
    /// </summary>
    public static bool IsArm(string type)
    {
        var family = type.Split('.')[0];
        var digit = family.IndexOfAny("0123456789".ToCharArray());
        return digit >= 0 && family.IndexOf('g', digit) > digit;
    }
}
