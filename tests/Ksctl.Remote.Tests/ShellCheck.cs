using System.Diagnostics;

namespace Ksctl.Remote.Tests;

/// <summary>Runs shellcheck on generated bash. A missing shellcheck fails the test (apt-get install shellcheck).</summary>
internal static class ShellCheck
{
    public static void AssertClean(string name, string bashSource)
    {
        var file = Path.Combine(Path.GetTempPath(), $"ksctl-shellcheck-{Guid.NewGuid():N}.sh");
        File.WriteAllText(file, "#!/usr/bin/env bash\n" + bashSource.Replace("\r\n", "\n"));
        try
        {
            var psi = new ProcessStartInfo("shellcheck") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("--shell=bash");
            psi.ArgumentList.Add(file);
            Process p;
            try
            {
                p = Process.Start(psi)!;
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                throw new InvalidOperationException("shellcheck is not installed (apt-get install -y shellcheck): " + ex.Message, ex);
            }
            using (p)
            {
                var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
                p.WaitForExit();
                Assert.True(p.ExitCode == 0, $"shellcheck found problems in {name}:\n{output}");
            }
        }
        finally
        {
            File.Delete(file);
        }
    }
}
