using System.Text;
using Ksctl.Core.Remote.Keys;

namespace Ksctl.Core.Providers.CloudMachines;

/// <summary>
/// What a new cloud machine runs on first boot so that it presents the host key Ksctl generated for it: the key's
/// fingerprint is then known before the machine exists and is pinned from the very first SSH connection (ksctl
/// instead trusts whatever <c>ssh-keyscan</c> returns). Only that one host key is left on the machine, so no
/// other algorithm can be negotiated.
/// </summary>
public static class MachineUserData
{
    /// <summary>cloud-init user data (Azure customData, EC2 user data): cloud-init writes the host key before sshd starts.</summary>
    public static string CloudConfig(SshKeyPair hostKey, string user, string authorizedKey)
    {
        RequireHostKey(hostKey);
        RequireUser(user);
        RequireAuthorizedKey(authorizedKey);
        var b = new StringBuilder();
        b.Append("#cloud-config\n");
        b.Append("# Written by Ksctl: the machine presents the host key Ksctl generated, so Ksctl pins it from creation.\n");
        b.Append("ssh_deletekeys: true\n");
        b.Append("ssh_genkeytypes: []\n");
        b.Append("ssh_keys:\n");
        b.Append("  ecdsa_private: |\n");
        foreach (var line in Lines(hostKey.PrivateKeyPem)) b.Append("    ").Append(line).Append('\n');
        b.Append("  ecdsa_public: ").Append(hostKey.PublicKey).Append('\n');
        b.Append("users:\n");
        b.Append("  - default\n");
        b.Append("  - name: ").Append(user).Append('\n');
        b.Append("    shell: /bin/bash\n");
        b.Append("    sudo: \"ALL=(ALL) NOPASSWD:ALL\"\n");
        b.Append("    ssh_authorized_keys:\n");
        b.Append("      - \"").Append(authorizedKey.Trim()).Append("\"\n");
        return b.ToString();
    }

    /// <summary>
    /// A first-boot shell script (Civo's instance <c>script</c>), run as root after sshd has already started with
    /// keys of its own: it replaces them with Ksctl's and restarts sshd.
    /// </summary>
    public static string InitScript(SshKeyPair hostKey, string authorizedKey)
    {
        RequireHostKey(hostKey);
        RequireAuthorizedKey(authorizedKey);
        var b = new StringBuilder();
        b.Append("#!/bin/sh\n");
        b.Append("# Written by Ksctl: the machine presents the host key Ksctl generated, so Ksctl pins it from creation.\n");
        b.Append("set -eu\n");
        b.Append("umask 077\n");
        b.Append("rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub\n");
        b.Append("cat > /etc/ssh/ssh_host_ecdsa_key <<'KSCTL_HOST_KEY'\n");
        foreach (var line in Lines(hostKey.PrivateKeyPem)) b.Append(line).Append('\n');
        b.Append("KSCTL_HOST_KEY\n");
        b.Append("printf '%s\\n' '").Append(hostKey.PublicKey).Append("' > /etc/ssh/ssh_host_ecdsa_key.pub\n");
        b.Append("chmod 0600 /etc/ssh/ssh_host_ecdsa_key\n");
        b.Append("chmod 0644 /etc/ssh/ssh_host_ecdsa_key.pub\n");
        b.Append("mkdir -p /etc/ssh/sshd_config.d\n");
        b.Append("printf '%s\\n' 'HostKey /etc/ssh/ssh_host_ecdsa_key' > /etc/ssh/sshd_config.d/10-ksctl-hostkey.conf\n");
        b.Append("chmod 0644 /etc/ssh/sshd_config.d/10-ksctl-hostkey.conf\n");
        b.Append("mkdir -p /root/.ssh\n");
        b.Append("chmod 0700 /root/.ssh\n");
        b.Append("touch /root/.ssh/authorized_keys\n");
        b.Append("grep -qxF '").Append(authorizedKey.Trim()).Append("' /root/.ssh/authorized_keys || printf '%s\\n' '")
            .Append(authorizedKey.Trim()).Append("' >> /root/.ssh/authorized_keys\n");
        b.Append("chmod 0600 /root/.ssh/authorized_keys\n");
        // Debian/Ubuntu name the unit "ssh", others "sshd".
        b.Append("systemctl restart ssh 2>/dev/null || systemctl restart sshd 2>/dev/null || service ssh restart\n");
        return b.ToString();
    }

    private static IEnumerable<string> Lines(string pem) =>
        pem.Replace("\r", "", StringComparison.Ordinal).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static void RequireHostKey(SshKeyPair hostKey)
    {
        ArgumentNullException.ThrowIfNull(hostKey);
        // cloud-init's ssh_keys names the key type; only what Ksctl generates for hosts is written.
        if (hostKey.Algorithm != SshKeyPair.EcdsaP256)
            throw new ArgumentException($"Host keys Ksctl injects are {SshKeyPair.EcdsaP256}; got {hostKey.Algorithm}.", nameof(hostKey));
    }

    private static void RequireUser(string user)
    {
        if (string.IsNullOrEmpty(user) || !user.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_'))
            throw new ArgumentException($"'{user}' is not a Linux user name (lowercase letters, digits, - and _).", nameof(user));
    }

    private static void RequireAuthorizedKey(string authorizedKey)
    {
        // Goes inside single quotes in a shell script and a YAML plain scalar: an OpenSSH public key line never holds these.
        if (string.IsNullOrWhiteSpace(authorizedKey) || authorizedKey.IndexOfAny(['\'', '\n', '\r', '"', '#']) >= 0)
            throw new ArgumentException("The authorized key must be one OpenSSH public key line.", nameof(authorizedKey));
    }
}
