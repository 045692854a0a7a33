# Stops and removes the Dozor agent service (run as administrator). The spool and logs are left in place.
$ErrorActionPreference = 'Stop'
$here = Split-Path -Parent $MyInvocation.MyCommand.Path
& (Join-Path $here 'dozor-agent.cmd') uninstall-service
if ($LASTEXITCODE -ne 0) { throw "uninstall-service failed ($LASTEXITCODE)" }
