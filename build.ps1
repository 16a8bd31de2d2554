#Requires -Version 7.4
<#
.SYNOPSIS
    Builds Ksctl and lays out the importable module in out/Ksctl; optionally packs it and runs the tests.
.DESCRIPTION
    Every artifact carries the one version in Directory.Build.props (<Version>); the release notes come from that
    version's section of CHANGELOG.md. -Package makes, with plain dotnet commands you can also run without pwsh:

        dotnet build Ksctl.PowerShell.sln -c Release
        dotnet pack src/Ksctl.Gallery -c Release --no-build -o out/packages/gallery   # Ksctl.<version>.nupkg
        dotnet pack src/Ksctl.Host    -c Release --no-build -o out/packages/tool      # ksctl.<version>.nupkg

    out/packages/gallery holds the PowerShell Gallery package (the module at its root; Publish-PSResource -NupkgPath
    or Install-PSResource from that folder as a repository); out/packages/tool holds the .NET tool
    (dotnet tool install --global ksctl --add-source out/packages/tool). They are separate folders because NuGet
    ids ignore case: Ksctl and ksctl are one id in one feed.
.EXAMPLE
    ./build.ps1
    ./build.ps1 -Configuration Release -Package
    ./build.ps1 -Test
    Import-Module ./out/Ksctl/Ksctl.psd1
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Debug',

    # Packs the gallery module package and the .NET tool into out/packages/ after the build.
    [switch] $Package,

    # Runs dotnet test over the solution after the build.
    [switch] $Test
)

$ErrorActionPreference = 'Stop'
$env:POWERSHELL_TELEMETRY_OPTOUT = '1'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$solution = Join-Path $PSScriptRoot 'Ksctl.PowerShell.sln'

dotnet build $solution --configuration $Configuration
if ($LASTEXITCODE -ne 0) { throw "dotnet build failed with exit code $LASTEXITCODE." }

$module = Join-Path $PSScriptRoot 'out/Ksctl/Ksctl.psd1'
if (-not (Test-Path $module)) { throw "The build did not lay out the module at $module." }
Write-Host "Module: $module"

if ($Package) {
    $packages = Join-Path $PSScriptRoot 'out/packages'
    foreach ($pack in @(
            @{ Project = 'src/Ksctl.Gallery'; Output = 'gallery' }
            @{ Project = 'src/Ksctl.Host'; Output = 'tool' })) {
        $output = Join-Path $packages $pack.Output
        dotnet pack (Join-Path $PSScriptRoot $pack.Project) --configuration $Configuration --no-build --output $output
        if ($LASTEXITCODE -ne 0) { throw "dotnet pack $($pack.Project) failed with exit code $LASTEXITCODE." }
    }
    Get-ChildItem (Join-Path $packages '*/*.nupkg') | ForEach-Object { Write-Host "Package: $($_.FullName)" }
}

if ($Test) {
    dotnet test $solution --configuration $Configuration --no-build
    if ($LASTEXITCODE -ne 0) { throw "dotnet test failed with exit code $LASTEXITCODE." }
}
