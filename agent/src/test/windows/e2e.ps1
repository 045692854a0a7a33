# End-to-end test of the Windows agent, for the Windows CI job (.github/workflows/windows.yml); run as
# administrator on Windows after `mvn -B -pl agent -am verify`, with JAVA_HOME a JDK 21+:
#   pwsh -File agent/src/test/windows/e2e.ps1 [-OutDir DIR] [-Port 18443] [-MeasureSeconds 60]
# 1. starts a stub HTTPS receiver (StubReceiver.java beside this script: it records the POSTed batches; not the
#    real server, so no PostgreSQL), with a self-signed certificate made by keytool as the agent's ca_file;
# 2. unpacks agent/target/dozor-agent-windows.zip and installs the service with its install-service.ps1 (the
#    token from a file: -Token is refused), checks the ACLs of ProgramData\Dozor and agent.ini, or,
#    with -Msi, installs that MSI (msiexec /qn SERVER_URL= TOKEN= CA_FILE=) and checks agent.ini and the ACL of
#    ProgramData\Dozor; with -UpgradeMsi (a higher version) too, upgrades in place after the event and checks
#    that the settings and the spool are kept;
# 3. copies notepad.exe to chrome.exe, starts it, and asserts that exactly one event arrives, with this user,
#    chrome.exe, its pid, path and start time;
# 4. measures the service's working set and CPU over MeasureSeconds (footprint.json, footprint.csv);
# 5. stops the service (the log must say the agent stopped) and uninstalls it (the MSI: msiexec /x, and the
#    program must be gone and the settings kept).
# Everything (receiver output, agent logs, events, footprint) is left in OutDir for the job's artifact.
param(
    [string]$OutDir = (Join-Path ([IO.Path]::GetTempPath()) 'dozor-e2e'),
    [int]$Port = 18443,
    [int]$MeasureSeconds = 60,
    [string]$Msi,
    [string]$UpgradeMsi
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3

function Log([string]$message) { Write-Host "e2e: $message" }
function Fail([string]$message) { throw "e2e: FAILED: $message" }

$repo = (Resolve-Path (Join-Path $PSScriptRoot '..\..\..\..')).Path
$zip = Join-Path $repo 'agent\target\dozor-agent-windows.zip'
if (-not $env:JAVA_HOME) { Fail 'JAVA_HOME is not set (a JDK 21+ is needed)' }
$java = Join-Path $env:JAVA_HOME 'bin\java.exe'
$keytool = Join-Path $env:JAVA_HOME 'bin\keytool.exe'
if (-not $Msi -and -not (Test-Path $zip)) { Fail "$zip is missing: build it first (mvn -B -pl agent -am verify)" }
if ($Msi) { $Msi = (Resolve-Path $Msi).Path }
if ($UpgradeMsi) { $UpgradeMsi = (Resolve-Path $UpgradeMsi).Path }
$token = 'e2e-' + [guid]::NewGuid().ToString('N')
$serviceName = 'DozorAgent'

if (Test-Path $OutDir) { Remove-Item -Recurse -Force $OutDir }
New-Item -ItemType Directory -Force $OutDir | Out-Null
$OutDir = (Resolve-Path $OutDir).Path
$events = Join-Path $OutDir 'events.jsonl'
$logDir = Join-Path $OutDir 'agent-logs'
$spoolDir = Join-Path $OutDir 'agent-spool'
$pollMs = 500
$dataDir = Join-Path $env:ProgramData 'Dozor'
if ($Msi) { # the MSI's agent.ini: the defaults of etc/agent.ini, settings and state in ProgramData\Dozor
    $logDir = Join-Path $dataDir 'logs'
    $spoolDir = Join-Path $dataDir 'spool'
    $pollMs = 1000
    if (Test-Path $dataDir) { Remove-Item -Recurse -Force $dataDir }
}
$receiver = $null
$chromeProcess = $null
$pkg = $null
$installedMsi = $null

function Invoke-Msiexec([string[]]$arguments, [string]$logName) {
    $all = $arguments + @('/qn', '/l*v', "`"$(Join-Path $OutDir $logName)`"")
    $p = Start-Process -FilePath msiexec.exe -ArgumentList $all -Wait -PassThru
    if ($p.ExitCode -ne 0 -and $p.ExitCode -ne 3010) {
        Fail "msiexec $($arguments -join ' ') exited with $($p.ExitCode) (see $logName)"
    }
}

function Get-DozorProducts {
    $keys = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\*',
            'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\*'
    return @(Get-ItemProperty $keys -ErrorAction SilentlyContinue |
            Where-Object { $_.PSObject.Properties['DisplayName'] -and $_.DisplayName -eq 'Dozor agent' })
}

function Assert-OnlySystemAndAdministrators([string]$path) {
    $acl = Get-Acl $path
    $sids = @($acl.Access | ForEach-Object {
            $_.IdentityReference.Translate([Security.Principal.SecurityIdentifier]).Value } | Sort-Object -Unique)
    if (-not $acl.AreAccessRulesProtected -or ($sids -join ',') -ne 'S-1-5-18,S-1-5-32-544') {
        Fail "$path is not restricted to SYSTEM and Administrators: inherited=$(-not $acl.AreAccessRulesProtected), $($sids -join ',')"
    }
}

function Read-Events {
    $list = New-Object System.Collections.Generic.List[object]
    if (Test-Path $events) {
        foreach ($line in Get-Content -Encoding UTF8 $events) {
            if ($line.Trim()) {
                foreach ($e in (ConvertFrom-Json $line).events) { $list.Add($e) }
            }
        }
    }
    return $list
}

function Remove-AgentService {
    if ($installedMsi) {
        Invoke-Msiexec @('/x', "`"$installedMsi`"") 'msi-cleanup.log'
        return
    }
    if (Get-Service $serviceName -ErrorAction SilentlyContinue) {
        Stop-Service $serviceName -ErrorAction SilentlyContinue
        if ($pkg) { & (Join-Path $pkg 'uninstall-service.ps1') } else { sc.exe delete $serviceName | Out-Null }
    }
}

try {
    # --- the receiver, over HTTPS with a throwaway self-signed certificate ---
    $p12 = Join-Path $OutDir 'receiver.p12'
    $ca = Join-Path $OutDir 'ca.pem'
    & $keytool -genkeypair -alias receiver -keyalg EC -groupname secp256r1 -dname 'CN=localhost' `
        -ext 'SAN=dns:localhost,ip:127.0.0.1' -validity 2 -keystore $p12 -storetype PKCS12 -storepass e2e-pass
    if ($LASTEXITCODE -ne 0) { Fail "keytool -genkeypair exited with $LASTEXITCODE" }
    & $keytool -exportcert -rfc -alias receiver -keystore $p12 -storepass e2e-pass -file $ca
    if ($LASTEXITCODE -ne 0) { Fail "keytool -exportcert exited with $LASTEXITCODE" }

    $receiverOut = Join-Path $OutDir 'receiver.out'
    $receiver = Start-Process -FilePath $java -PassThru -NoNewWindow `
        -RedirectStandardOutput $receiverOut -RedirectStandardError (Join-Path $OutDir 'receiver.err') `
        -ArgumentList @("`"$(Join-Path $PSScriptRoot 'StubReceiver.java')`"", $Port, "`"$p12`"", 'e2e-pass', $token, "`"$events`"")
    $deadline = (Get-Date).AddSeconds(60)
    while (-not ((Test-Path $receiverOut) -and (Select-String -Quiet -Path $receiverOut -Pattern 'listening'))) {
        if ($receiver.HasExited) { Fail "the receiver exited (code $($receiver.ExitCode)); see receiver.err" }
        if ((Get-Date) -gt $deadline) { Fail 'the receiver did not start within 60 s' }
        Start-Sleep -Milliseconds 500
    }
    Log "receiver listening on https://127.0.0.1:$Port"

    if ($Msi) {
        # --- the agent, installed by its MSI as GPO or Intune would (silent, properties on the command line) ---
        Invoke-Msiexec @('/i', "`"$Msi`"", "SERVER_URL=https://127.0.0.1:$Port", "TOKEN=$token", "CA_FILE=`"$ca`"") 'msi-install.log'
        $installedMsi = $Msi
        $ini = Join-Path $dataDir 'agent.ini'
        if (-not (Test-Path $ini)) { Fail "the MSI wrote no $ini" }
        $iniText = Get-Content -Raw $ini
        foreach ($line in @("url = https://127.0.0.1:$Port", "token = $token", "ca_file = $ca")) {
            if (-not $iniText.Contains($line)) { Fail "agent.ini has no line '$line'" }
        }
        Assert-OnlySystemAndAdministrators $dataDir
        Log "MSI installed; agent.ini written; $dataDir for SYSTEM and Administrators only"
    } else {
        # --- the agent, installed as a service from the package ---
        Expand-Archive -Path $zip -DestinationPath (Join-Path $OutDir 'pkg')
        $pkg = Join-Path $OutDir 'pkg\dozor-agent'
        $ini = Join-Path $pkg 'agent.ini'
        $text = Get-Content -Raw -Encoding UTF8 $ini
        $text = $text -replace '(?m)^processes[ \t]*=[^\r\n]*', 'processes = chrome'
        $text = $text -replace '(?m)^poll_interval_ms[ \t]*=[^\r\n]*', 'poll_interval_ms = 500'
        $text = $text.Replace('C:\ProgramData\Dozor\spool', $spoolDir).Replace('C:\ProgramData\Dozor\logs', $logDir)
        [IO.File]::WriteAllText($ini, $text, (New-Object Text.UTF8Encoding($false)))
        # the token from a file, never on the command line; -Token is refused with a line saying why
        $tokenFile = Join-Path $OutDir 'token.txt'
        [IO.File]::WriteAllText($tokenFile, "$token`r`n")
        $refused = $null
        try { & (Join-Path $pkg 'install-service.ps1') -Server "https://127.0.0.1:$Port" -Token $token -CaFile $ca }
        catch { $refused = $_.Exception.Message }
        if (-not $refused -or -not $refused.Contains('-TokenFile')) { Fail "install-service.ps1 -Token was not refused: $refused" }
        if (Get-Service $serviceName -ErrorAction SilentlyContinue) { Fail 'install-service.ps1 -Token installed the service' }
        if (Test-Path $dataDir) { Remove-Item -Recurse -Force $dataDir }
        & (Join-Path $pkg 'install-service.ps1') -Server "https://127.0.0.1:$Port" -TokenFile $tokenFile -CaFile $ca
        if (-not (Get-Content -Raw $ini).Contains("token = $token")) { Fail 'agent.ini has not the token of -TokenFile' }
        Assert-OnlySystemAndAdministrators $dataDir
        Assert-OnlySystemAndAdministrators $ini
        Log "installed with -TokenFile; $dataDir and agent.ini for SYSTEM and Administrators only"
    }
    $service = Get-Service $serviceName
    if ($service.Status -ne 'Running') { Fail "service $serviceName is $($service.Status), not Running" }
    Log 'service running (its first snapshot is taken before it reports RUNNING)'

    # --- a launch of "chrome.exe" (a copy of notepad.exe, with its language resources) ---
    $appDir = Join-Path $OutDir 'app'
    New-Item -ItemType Directory -Force $appDir | Out-Null
    $chrome = Join-Path $appDir 'chrome.exe'
    Copy-Item (Join-Path $env:windir 'System32\notepad.exe') $chrome
    Get-ChildItem (Join-Path $env:windir 'System32\*\notepad.exe.mui') -ErrorAction SilentlyContinue | ForEach-Object {
        $lang = Join-Path $appDir $_.Directory.Name
        New-Item -ItemType Directory -Force $lang | Out-Null
        Copy-Item $_.FullName (Join-Path $lang 'chrome.exe.mui')
    }
    $chromeProcess = Start-Process -FilePath $chrome -PassThru
    Start-Sleep -Seconds 2
    if ($chromeProcess.HasExited) { Fail "chrome.exe (notepad.exe copied) exited at once with $($chromeProcess.ExitCode)" }
    $started = $chromeProcess.StartTime.ToUniversalTime()
    Log "started chrome.exe: pid $($chromeProcess.Id), session $($chromeProcess.SessionId), at $($started.ToString('o'))"
    if ($chromeProcess.SessionId -eq 0) {
        Fail 'this runner starts programs in session 0, whose processes the agent ignores by design (services)'
    }

    $deadline = (Get-Date).AddSeconds(60)
    while (@(Read-Events).Count -eq 0) {
        if ((Get-Date) -gt $deadline) { Fail 'no event arrived within 60 s (see agent-logs and receiver.out)' }
        Start-Sleep -Milliseconds 500
    }
    Start-Sleep -Seconds 5 # ten more polls: a duplicate would arrive now
    $all = @(Read-Events)
    if ($all.Count -ne 1) { Fail "expected exactly one event, got $($all.Count): $(Get-Content -Raw $events)" }
    $e = $all[0]
    $ts = $e.timestamp
    $eventStart = if ($ts -is [datetime]) { $ts.ToUniversalTime() } else {
        [DateTimeOffset]::Parse($ts, [Globalization.CultureInfo]::InvariantCulture).UtcDateTime }
    $problems = @()
    if ($e.process_name -ne 'chrome.exe') { $problems += "process_name $($e.process_name)" }
    if ([long]$e.pid -ne $chromeProcess.Id) { $problems += "pid $($e.pid), expected $($chromeProcess.Id)" }
    if ($e.username -ne $env:USERNAME) { $problems += "username $($e.username), expected $($env:USERNAME)" }
    if ($e.executable -ne $chrome) { $problems += "executable $($e.executable), expected $chrome" }
    if ($e.hostname -ne $env:COMPUTERNAME) { $problems += "hostname $($e.hostname), expected $($env:COMPUTERNAME)" }
    if ([math]::Abs(($eventStart - $started).TotalSeconds) -gt 1) {
        $problems += "timestamp $($eventStart.ToString('o')), expected $($started.ToString('o'))"
    }
    if ($problems.Count -gt 0) { Fail ("the event is wrong: " + ($problems -join '; ')) }
    Log "one event, as expected: $(Get-Content -Raw $events)"
    Stop-Process -Id $chromeProcess.Id -Force
    $chromeProcess = $null

    if ($UpgradeMsi) {
        # --- upgrade in place: no properties, the settings and the spool stay ---
        $iniBefore = Get-FileHash (Join-Path $dataDir 'agent.ini')
        Invoke-Msiexec @('/i', "`"$UpgradeMsi`"") 'msi-upgrade.log'
        $installedMsi = $UpgradeMsi
        if ((Get-FileHash (Join-Path $dataDir 'agent.ini')).Hash -ne $iniBefore.Hash) { Fail 'the upgrade changed agent.ini' }
        if (-not (Test-Path (Join-Path $spoolDir 'spool.db'))) { Fail 'the upgrade lost the spool' }
        $products = @(Get-DozorProducts)
        if ($products.Count -ne 1) { Fail "$($products.Count) 'Dozor agent' products registered after the upgrade, not 1" }
        if ((Get-Service $serviceName).Status -ne 'Running') { Fail 'the service is not running after the upgrade' }
        Log "upgraded in place to $($products[0].DisplayVersion); agent.ini and the spool kept; service running"
    }

    # --- footprint of the running service over MeasureSeconds ---
    $servicePid = (Get-CimInstance Win32_Service -Filter "Name='$serviceName'").ProcessId
    $agentProcess = Get-Process -Id $servicePid
    Log "measuring $($agentProcess.ProcessName) (pid $servicePid) for $MeasureSeconds s"
    $cpuStart = $agentProcess.TotalProcessorTime
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $samples = New-Object System.Collections.Generic.List[object]
    for ($i = 1; $i -le $MeasureSeconds; $i++) {
        Start-Sleep -Seconds 1
        $agentProcess.Refresh()
        $samples.Add([pscustomobject]@{
            second = $i
            working_set_bytes = $agentProcess.WorkingSet64
            private_bytes = $agentProcess.PrivateMemorySize64
            cpu_seconds = ($agentProcess.TotalProcessorTime - $cpuStart).TotalSeconds
        })
    }
    $elapsed = $clock.Elapsed.TotalSeconds
    $cpu = ($agentProcess.TotalProcessorTime - $cpuStart).TotalSeconds
    $ws = $samples | Measure-Object -Property working_set_bytes -Minimum -Maximum -Average
    $footprint = [ordered]@{
        seconds = [math]::Round($elapsed, 1)
        poll_interval_ms = $pollMs
        working_set_mb = [ordered]@{
            min = [math]::Round($ws.Minimum / 1048576, 1); max = [math]::Round($ws.Maximum / 1048576, 1)
            average = [math]::Round($ws.Average / 1048576, 1)
        }
        private_mb_last = [math]::Round($samples[$samples.Count - 1].private_bytes / 1048576, 1)
        cpu_seconds = [math]::Round($cpu, 3)
        cpu_percent_of_one_core = [math]::Round(100 * $cpu / $elapsed, 2)
        processors = [Environment]::ProcessorCount
    }
    $footprint | ConvertTo-Json | Set-Content -Encoding UTF8 (Join-Path $OutDir 'footprint.json')
    $samples | Export-Csv -NoTypeInformation -Encoding UTF8 (Join-Path $OutDir 'footprint.csv')
    Log "footprint: $($footprint | ConvertTo-Json -Compress)"
    if ($env:GITHUB_STEP_SUMMARY) {
        "### Agent footprint on Windows ($MeasureSeconds s, idle, poll $pollMs ms)`n" + '```json' + "`n" +
            ($footprint | ConvertTo-Json) + "`n" + '```' | Add-Content -Encoding UTF8 $env:GITHUB_STEP_SUMMARY
    }

    # --- stop and uninstall ---
    Stop-Service $serviceName
    if ((Get-Service $serviceName).Status -ne 'Stopped') { Fail 'the service did not stop' }
    if (-not (Select-String -Quiet -Path (Join-Path $logDir '*.json') -Pattern 'agent stopped')) {
        Fail 'the agent log does not say "agent stopped" (spool closed) after the service stopped'
    }
    if ($installedMsi) {
        Invoke-Msiexec @('/x', "`"$installedMsi`"") 'msi-uninstall.log'
        $installedMsi = $null
        if (Test-Path (Join-Path $env:ProgramFiles 'Dozor\Agent\dozor-agent.jar')) { Fail 'the uninstall left the program' }
        if (-not (Test-Path (Join-Path $dataDir 'agent.ini'))) { Fail 'the uninstall removed the settings' }
        if (@(Get-DozorProducts).Count -ne 0) { Fail "'Dozor agent' is still registered after the uninstall" }
    } else {
        & (Join-Path $pkg 'uninstall-service.ps1')
    }
    $deadline = (Get-Date).AddSeconds(30)
    while (Get-Service $serviceName -ErrorAction SilentlyContinue) {
        if ((Get-Date) -gt $deadline) { Fail 'the service is still registered 30 s after uninstall-service' }
        Start-Sleep -Milliseconds 500
    }
    Log 'service stopped and removed'
    Log 'PASSED'
} finally {
    if ($chromeProcess -and -not $chromeProcess.HasExited) { Stop-Process -Id $chromeProcess.Id -Force }
    try { Remove-AgentService } catch { Write-Warning "cleanup: $_" }
    if ($receiver -and -not $receiver.HasExited) { Stop-Process -Id $receiver.Id -Force }
    if ($Msi -and (Test-Path (Join-Path $dataDir 'logs'))) { # for the job's artifact
        Copy-Item -Recurse -Force (Join-Path $dataDir 'logs') (Join-Path $OutDir 'agent-logs')
    }
}
