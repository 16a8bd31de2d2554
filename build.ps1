#Requires -Version 7.4
<#
.SYNOPSIS
    Builds Ksctl and lays out the importable module in out/Ksctl; optionally runs the tests.
.EXAMPLE
    ./build.ps1
    ./build.ps1 -Configuration Release -Test
    Import-Module ./out/Ksctl/Ksctl.psd1
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Debug',

    # Runs dotnet test over the solution after the build.
    [switch] $Test
)

$ErrorActionPreference = 'Stop'
$env:POWERSHELL_TELEMETRY_OPTOUT = '1'
$solution = Join-Path $PSScriptRoot 'Ksctl.PowerShell.sln'

dotnet build $solution --configuration $Configuration
if ($LASTEXITCODE -ne 0) { throw "dotnet build failed with exit code $LASTEXITCODE." }

$module = Join-Path $PSScriptRoot 'out/Ksctl/Ksctl.psd1'
if (-not (Test-Path $module)) { throw "The build did not lay out the module at $module." }
Write-Host "Module: $module"

if ($Test) {
    dotnet test $solution --configuration $Configuration --no-build
    if ($LASTEXITCODE -ne 0) { throw "dotnet test failed with exit code $LASTEXITCODE." }
}
