# Run by the MSI (deferred, as SYSTEM) after the service is registered and before it starts: writes agent.ini
# in the data folder from the properties given (SERVER_URL, TOKEN or ENROLLMENT_TOKEN, CA_FILE), keeping an existing file on an
# upgrade or repair (only the values given replace its own), locks the data folder down to Administrators
# and SYSTEM (it holds the token, the spool and the logs), and sets the service's restart on failure.
# ENROLLMENT_TOKEN (from `dozor-server enrollment create`) instead of TOKEN: the same command line on every PC,
# each agent enrols itself. A first install without SERVER_URL and one of the two tokens, or with both, fails
# (exit 1), and the MSI rolls back: no service that cannot start.
param([Parameter(Mandatory = $true)][string]$Config, [Parameter(Mandatory = $true)][string]$Template,
      [string]$Server, [string]$Token, [string]$EnrollmentToken, [string]$CaFile)
$ErrorActionPreference = 'Stop'
try {
    $dataDir = Split-Path -Parent $Config
    New-Item -ItemType Directory -Force $dataDir | Out-Null
    # Administrators (S-1-5-32-544) and SYSTEM (S-1-5-18) only, inherited by the spool and logs folders
    icacls $dataDir /inheritance:r /grant:r '*S-1-5-32-544:(OI)(CI)F' '*S-1-5-18:(OI)(CI)F' | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "icacls $dataDir failed ($LASTEXITCODE)" }
    if ($Token -and $EnrollmentToken) { throw "TOKEN and ENROLLMENT_TOKEN given: give one of them" }
    if (Test-Path $Config) {
        $text = Get-Content -Raw -Encoding UTF8 $Config
    } elseif ($Server -and ($Token -or $EnrollmentToken)) {
        $text = Get-Content -Raw -Encoding UTF8 $Template
    } else {
        throw "SERVER_URL and TOKEN or ENROLLMENT_TOKEN are required on a first install ($Config does not exist)"
    }
    if ($Server) { $text = $text -replace '(?m)^url[ \t]*=[^\r\n]*', "url = $Server" }
    # the [server] credential line, whichever of the two keys it is, becomes the one given
    if ($Token) { $text = $text -replace '(?m)^(enrollment_)?token[ \t]*=[^\r\n]*', "token = $Token" }
    if ($EnrollmentToken) {
        $text = $text -replace '(?m)^(enrollment_)?token[ \t]*=[^\r\n]*', "enrollment_token = $EnrollmentToken"
    }
    if ($CaFile) { $text = $text -replace '(?m)^ca_file[ \t]*=[^\r\n]*', "ca_file = $CaFile" }
    [IO.File]::WriteAllText($Config, $text, (New-Object Text.UTF8Encoding($false)))
    # restart after a crash: 10 s, 60 s, then every 5 minutes
    sc.exe failure DozorAgent reset= 86400 actions= restart/10000/restart/60000/restart/300000 | Out-Null
    exit 0
} catch {
    # the MSI log (msiexec /l*v) shows the exit code; the event log gets the reason without the token
    Write-EventLog -LogName Application -Source MsiInstaller -EventId 1 -EntryType Error `
        -Message "Dozor agent configure.ps1: $($_.Exception.Message)" -ErrorAction SilentlyContinue
    exit 1
}
