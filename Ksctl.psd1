@{
    RootModule           = 'Ksctl.PowerShell.dll'
    # The build writes Directory.Build.props' Version here (build/ModuleManifest.targets); keep the two equal.
    ModuleVersion        = '0.1.0'
    GUID                 = '6b7f3f0e-5c1d-4d8e-9a43-2f1c7d9e8a15'
    Author               = 'Ksctl contributors'
    CompanyName          = 'Ksctl contributors'
    Copyright            = '(c) Ksctl contributors. Apache License 2.0.'
    Description          = 'Create, inspect, scale, switch to and delete Kubernetes clusters from PowerShell: Local (kind), Azure (AKS or HA on VMs), Civo (managed or HA on instances), AWS (HA on EC2) and your own machines over SSH (HA K3s or Kubeadm with external etcd and HAProxy). A PowerShell reimplementation of ksctl.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('Ksctl.Format.ps1xml')
    CmdletsToExport      = @(
        'New-KsctlCluster'
        'Get-KsctlCluster'
        'Remove-KsctlCluster'
        'Resize-KsctlCluster'
        'Test-KsctlCluster'
        'Update-KsctlCluster'
        'Backup-KsctlCluster'
        'Get-KsctlBackup'
        'Remove-KsctlBackup'
        'Restore-KsctlCluster'
        'Update-KsctlCertificate'
        'Get-KsctlPlan'
        'Switch-KsctlContext'
        'Get-KsctlKubeconfig'
        'Get-KsctlConfiguration'
        'Set-KsctlConfiguration'
        'Set-KsctlCredential'
        'Get-KsctlGcpToken'
        'Get-KsctlCredential'
        'Remove-KsctlCredential'
        'Export-KsctlState'
        'Import-KsctlState'
        'Add-KsctlAddon'
        'Get-KsctlAddon'
        'Remove-KsctlAddon'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            # Only registered providers (ProviderRegistry): a tag promises what a user can run.
            Tags         = @('Kubernetes', 'k8s', 'kind', 'k3s', 'kubeadm', 'etcd', 'HAProxy', 'Azure', 'AKS', 'Civo', 'AWS', 'EC2', 'EKS', 'GCP', 'GKE', 'Cluster', 'kubeconfig', 'ksctl', 'PSEdition_Core', 'Linux', 'Windows', 'MacOS')
            # No ProjectUri or LicenseUri: this port has no public home yet, and github.com/ksctl/ksctl is the Go tool's.
            # The license is in the package (LICENSE, Apache-2.0, the license of the ksctl it reimplements).
            # Replaced by the build with this version's section of CHANGELOG.md.
            ReleaseNotes = 'See CHANGELOG.md.'
        }
    }
}
