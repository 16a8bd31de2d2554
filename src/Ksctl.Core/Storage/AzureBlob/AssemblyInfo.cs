using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Ksctl.Storage.Tests")]
