using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Ksctl.Remote.Tests")]
