namespace Ksctl.Core.Tests;

public class SmokeTests
{
    [Xunit.Fact]
    public void Builds() => Xunit.Assert.True(typeof(Ksctl.Core.Model.ClusterId).Assembly.GetName().Name == "Ksctl.Core");
}
