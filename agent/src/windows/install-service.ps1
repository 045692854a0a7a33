# Installs and starts the Dozor agent service from this folder (run as administrator).
#   powershell -ExecutionPolicy Bypass -File install-service.ps1 [-Server URL -Token TOKEN -CaFile PEM]
# With -Server/-Token/-CaFile, agent.ini is filled in first (handy for GPO startup scripts).
param([string]$Server, [string]$Token, [string]$CaFile)
$ErrorActionPreference = 'Stop'
$here = Split-Path -Parent $MyInvocation.MyCommand.Path
$ini = Join-Path $here 'agent.ini'
if ($Server -or $Token -or $CaFile) {
    $text = Get-Content -Raw -Encoding UTF8 $ini
    if ($Server) { $text = $text -replace '(?m)^url\s*=.*$', "url = $Server" }
    if ($Token)  { $text = $text -replace '(?m)^token\s*=.*$', "token = $Token" }
    if ($CaFile) { $text = $text -replace '(?m)^ca_file\s*=.*$', "ca_file = $CaFile" }
    [IO.File]::WriteAllText($ini, $text, (New-Object Text.UTF8Encoding($false)))
}
# the INI holds the token: readable by administrators and SYSTEM only
icacls $ini /inheritance:r /grant:r 'Administrators:F' 'SYSTEM:F' | Out-Null
& (Join-Path $here 'dozor-agent.cmd') install-service
if ($LASTEXITCODE -ne 0) { throw "install-service failed ($LASTEXITCODE)" }
# restart after a crash: 10 s, 60 s, then every 5 minutes
sc.exe failure DozorAgent reset= 86400 actions= restart/10000/restart/60000/restart/300000 | Out-Null
Start-Service DozorAgent
Get-Service DozorAgent
