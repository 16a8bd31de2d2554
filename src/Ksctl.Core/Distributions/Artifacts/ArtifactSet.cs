namespace Ksctl.Core.Distributions.Artifacts;

/// <summary>
/// One component's binaries at one version, as <see cref="ArtifactSource"/> installs them into /usr/local/bin:
/// <c>&lt;component&gt;/&lt;version&gt;/&lt;file&gt;</c> in a folder or mirror (beside a <c>SHA256SUMS</c>), or the
/// official download script, which verifies against the upstream checksum file before it installs anything.
/// </summary>
public sealed record ArtifactSet(string Component, string Version, IReadOnlyList<string> Files, string OfficialScript);
