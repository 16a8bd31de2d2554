global using Xunit;
global using Ksctl.Core.Tests.Support;
