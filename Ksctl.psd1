@{
    RootModule           = 'Ksctl.PowerShell.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '6b7f3f0e-5c1d-4d8e-9a43-2f1c7d9e8a15'
    Author               = 'Ksctl contributors'
    CompanyName          = 'Ksctl contributors'
    Copyright            = '(c) Ksctl contributors. Apache License 2.0.'
    Description          = 'Create, inspect, switch to and delete Kubernetes clusters (Local/Kind, Azure, Civo, your own machines) from PowerShell. A PowerShell reimplementation of ksctl.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('Ksctl.Format.ps1xml')
    CmdletsToExport      = @(
        'New-KsctlCluster'
        'Get-KsctlCluster'
        'Remove-KsctlCluster'
        'Resize-KsctlCluster'
        'Get-KsctlPlan'
        'Switch-KsctlContext'
        'Get-KsctlConfiguration'
        'Set-KsctlConfiguration'
        'Set-KsctlCredential'
        'Get-KsctlCredential'
        'Remove-KsctlCredential'
        'Export-KsctlState'
        'Import-KsctlState'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Kubernetes', 'k8s', 'kind', 'k3s', 'kubeadm', 'Azure', 'AKS', 'Civo', 'Cluster', 'ksctl', 'PSEdition_Core', 'Linux', 'Windows', 'MacOS')
            ProjectUri   = 'https://github.com/ksctl/ksctl'
            ReleaseNotes = 'Local (kind) clusters; self-managed HA K3s and Kubeadm on your own machines (BareMetal) with external etcd and HAProxy; file and Azure Blob state stores with encrypted secrets; stored credentials; Export-/Import-KsctlState.'
        }
    }
}
