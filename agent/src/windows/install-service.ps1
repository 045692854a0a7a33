# Installs and starts the Dozor agent service from this folder (run as administrator).
#   powershell -ExecutionPolicy Bypass -File install-service.ps1 [-Server URL] [-TokenFile FILE] [-CaFile PEM]
#       [-DataDir C:\ProgramData\Dozor]
# With -Server/-TokenFile/-CaFile, agent.ini is filled in first (handy for GPO startup scripts). The token is
# never taken on the command line (any user can read a process's command line, and scripts get logged): it is
# read from -TokenFile (its first line), or asked for without echo when agent.ini has none and a person is
# at the console.
# Before anything is written, the data folder (spool, logs; default C:\ProgramData\Dozor) and agent.ini are
# limited to SYSTEM and Administrators, inheritance broken: what the service creates there inherits that.
param([string]$Server, [string]$TokenFile, [string]$CaFile,
      [string]$DataDir = (Join-Path $env:ProgramData 'Dozor'),
      [string]$Token)
$ErrorActionPreference = 'Stop'
if ($Token) {
    throw ('-Token is not accepted: a command line is visible to every user of the PC. Put the token in a file ' +
        'readable by administrators only and pass -TokenFile FILE, or leave it out to be asked for it.')
}
$here = Split-Path -Parent $MyInvocation.MyCommand.Path
$ini = Join-Path $here 'agent.ini'

# Administrators (S-1-5-32-544) and SYSTEM (S-1-5-18) by SID: the group's name is translated on localized Windows
function Protect-Path([string]$path, [string]$inherit) {
    icacls $path /inheritance:r /grant:r "*S-1-5-32-544:$($inherit)F" "*S-1-5-18:$($inherit)F" | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "icacls $path failed ($LASTEXITCODE)" }
}
New-Item -ItemType Directory -Force $DataDir | Out-Null
Protect-Path $DataDir '(OI)(CI)'
Protect-Path $ini ''

$text = Get-Content -Raw -Encoding UTF8 $ini
$current = [regex]::Match($text, '(?m)^token[ \t]*=[ \t]*([^\r\n;#]*)').Groups[1].Value.Trim()
$newToken = $null
if ($TokenFile) {
    $newToken = (Get-Content -Encoding UTF8 -TotalCount 1 $TokenFile)
    if ($null -eq $newToken -or -not $newToken.Trim()) { throw "$TokenFile is empty: the agent's token is missing" }
    $newToken = $newToken.Trim()
} elseif (-not $current -or $current -eq 'eyJ...') {
    if (-not [Environment]::UserInteractive -or [Console]::IsInputRedirected) {
        throw "agent.ini has no token: pass -TokenFile FILE (e.g. a per-computer file only this PC can read)"
    }
    $secure = Read-Host -AsSecureString "Token of this PC's agent (dozor-server token create --agent-id NAME)"
    $bstr = [Runtime.InteropServices.Marshal]::SecureStringToBSTR($secure)
    try { $newToken = [Runtime.InteropServices.Marshal]::PtrToStringBSTR($bstr).Trim() }
    finally { [Runtime.InteropServices.Marshal]::ZeroFreeBSTR($bstr) }
    if (-not $newToken) { throw 'no token given' }
}
if ($newToken -and $newToken -match '[\s\x00-\x1f]') { throw 'the token must not contain spaces or control characters' }

if ($Server -or $newToken -or $CaFile) {
    # a MatchEvaluator, so that a '$' in a value is taken literally
    if ($Server) { $text = [regex]::Replace($text, '(?m)^url[ \t]*=[^\r\n]*', { "url = $Server" }) }
    if ($newToken) { $text = [regex]::Replace($text, '(?m)^token[ \t]*=[^\r\n]*', { "token = $newToken" }) }
    if ($CaFile) { $text = [regex]::Replace($text, '(?m)^ca_file[ \t]*=[^\r\n]*', { "ca_file = $CaFile" }) }
    # the file keeps the ACL set above: rewritten in place, not replaced
    [IO.File]::WriteAllText($ini, $text, (New-Object Text.UTF8Encoding($false)))
}
& (Join-Path $here 'dozor-agent.cmd') install-service
if ($LASTEXITCODE -ne 0) { throw "install-service failed ($LASTEXITCODE)" }
# restart after a crash: 10 s, 60 s, then every 5 minutes
sc.exe failure DozorAgent reset= 86400 actions= restart/10000/restart/60000/restart/300000 | Out-Null
Start-Service DozorAgent
Get-Service DozorAgent
