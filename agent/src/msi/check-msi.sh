#!/usr/bin/env bash
# Builds the agent's MSI on Linux with wixl and checks its tables with msiinfo, so that a broken MSI definition
# fails here and not on the first PC: agent/src/msi/check-msi.sh [agent/target/dozor-agent-windows.zip]
# The runtime inside is a stand-in (a jlink image for Windows can only be made on Windows: the Windows CI job
# builds the real MSI), so this MSI is for inspection only. Nothing here installs it: msiexec exists on Windows only.
set -euo pipefail
cd "$(dirname "$0")/../../.."
zip=${1:-agent/target/dozor-agent-windows.zip}
[ -f "$zip" ] || { echo "check-msi: $zip is missing (./dozor-build or mvn package first)" >&2; exit 1; }
if ! command -v wixl >/dev/null || ! command -v msiinfo >/dev/null; then
  echo "check-msi: installing wixl and msitools (Debian packages)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wixl msitools >/dev/null; } \
    || { echo "check-msi: cannot install wixl/msitools" >&2; exit 1; }
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && unzip -q "$OLDPWD/$zip")
mkdir -p "$work/jre/bin" "$work/jre/lib/security"
for f in bin/java.exe bin/jli.dll lib/modules lib/security/default.policy; do echo "stand-in" > "$work/jre/$f"; done
msi="$work/dozor-agent.msi"
agent/src/msi/build-msi.sh "$work/dozor-agent" "$work/jre" "$msi" >/dev/null

failures=0
fail() { echo "check-msi: $*" >&2; failures=$((failures + 1)); }
table() { msiinfo export "$msi" "$1" | tail -n +4 | tr -d '\r'; }
# column $2 of the row of table $1 whose first column is $3
cell() { table "$1" | awk -F'\t' -v key="$3" -v col="$2" '$1 == key { print $col }'; }

[ "$(msiinfo suminfo "$msi" | sed -n 's/^Template: //p')" = "x64;1033" ] || fail "not an x64 package"

# the service: own process, automatic, LocalSystem, java.exe of the bundled runtime running the jar
[ "$(cell ServiceInstall 2 DozorAgentService)" = DozorAgent ] || fail "ServiceInstall: no DozorAgent"
[ "$(cell ServiceInstall 4 DozorAgentService)" = 16 ] || fail "ServiceInstall: not SERVICE_WIN32_OWN_PROCESS"
[ "$(cell ServiceInstall 5 DozorAgentService)" = 2 ] || fail "ServiceInstall: not SERVICE_AUTO_START"
[ "$(cell ServiceInstall 9 DozorAgentService)" = LocalSystem ] || fail "ServiceInstall: not LocalSystem"
args=$(cell ServiceInstall 11 DozorAgentService)
case "$args" in
  *'-Xmx48m'*'-jar "[INSTALLDIR]dozor-agent.jar" service --config "[DATADIR]agent.ini"') ;;
  *) fail "ServiceInstall: arguments are not the launcher's flags and 'service --config [DATADIR]agent.ini': $args" ;;
esac
component=$(cell ServiceInstall 12 DozorAgentService)
keyfile=$(cell Component 6 "$component")
[ "$(cell File 3 "$keyfile")" = java.exe ] || fail "the service's component is not keyed by java.exe"
[ "$(cell Component 3 "$component")" = JREBINDIR ] || fail "java.exe is not in jre\\bin"
# msidbServiceControlEventStart|Stop on install, Stop|Delete on uninstall = 1+2+32+128
[ "$(cell ServiceControl 3 DozorAgentControl)" = 163 ] || fail "ServiceControl: events are not start/stop on install, stop/delete on uninstall"

# configure.ps1: deferred (0x400), as SYSTEM (0x800), failure fails the install (no 0x40), after the service exists
type=$(cell CustomAction 2 ConfigureAgent)
[ -n "$type" ] && [ $((type & 0x3F)) = 50 ] && [ $((type & 0x400)) != 0 ] && [ $((type & 0x800)) != 0 ] \
  && [ $((type & 0x40)) = 0 ] || fail "CustomAction ConfigureAgent: type $type is not a deferred, no-impersonate, checked exe"
case "$(cell CustomAction 4 ConfigureAgent)" in
  *'configure.ps1" -Config "[DATADIR]agent.ini"'*'-Server "[SERVER_URL]" -Token "[TOKEN]" -EnrollmentToken "[ENROLLMENT_TOKEN]" -CaFile "[CA_FILE]"') ;;
  *) fail "CustomAction ConfigureAgent: command line does not pass SERVER_URL, TOKEN, ENROLLMENT_TOKEN and CA_FILE" ;;
esac
[ "$(cell CustomAction 4 SetPowerShell)" = '[System64Folder]WindowsPowerShell\v1.0\powershell.exe' ] \
  || fail "SetPowerShell does not point at the 64-bit powershell.exe"
seq() { cell InstallExecuteSequence 3 "$1"; }
[ "$(seq CostFinalize)" -lt "$(seq SetPowerShell)" ] && [ "$(seq SetPowerShell)" -lt "$(seq InstallInitialize)" ] \
  || fail "SetPowerShell must run after CostFinalize (folders resolved), before the script is written"
[ "$(seq InstallServices)" -lt "$(seq ConfigureAgent)" ] && [ "$(seq ConfigureAgent)" -lt "$(seq StartServices)" ] \
  || fail "ConfigureAgent must run after InstallServices and before StartServices"
[ "$(cell InstallExecuteSequence 2 ConfigureAgent)" = 'NOT REMOVE~="ALL"' ] || fail "ConfigureAgent runs on uninstall"
[ "$(seq InstallValidate)" -lt "$(seq RemoveExistingProducts)" ] \
  && [ "$(seq RemoveExistingProducts)" -lt "$(seq InstallInitialize)" ] \
  || fail "an upgrade must remove the old product before installing (its uninstall would delete the new service)"

# upgrades in place, refuses downgrades; the token stays out of the log
upgrade=$(cell Property 2 UpgradeCode)
[ "$upgrade" = '{B8D396B0-243E-4D83-932E-6BCE3EA74AF7}' ] || fail "UpgradeCode changed ($upgrade): upgrades would not find the installed agent"
table Upgrade | grep -q "WIX_UPGRADE_DETECTED" || fail "no Upgrade row for older versions"
table LaunchCondition | grep -q "^NOT WIX_DOWNGRADE_DETECTED" || fail "downgrades are not refused"
for p in TOKEN ENROLLMENT_TOKEN; do
  case ";$(cell Property 2 MsiHiddenProperties);" in *";$p;"*) ;; *) fail "$p is not in MsiHiddenProperties" ;; esac
done
secure=";$(cell Property 2 SecureCustomProperties);"
for p in SERVER_URL TOKEN ENROLLMENT_TOKEN CA_FILE WIX_UPGRADE_DETECTED; do
  case "$secure" in *";$p;"*) ;; *) fail "$p is not in SecureCustomProperties" ;; esac
done

# files and folders
for f in dozor-agent.jar configure.ps1 agent.ini.example README.txt java.exe jli.dll modules default.policy; do
  table File | awk -F'\t' '{print $3}' | grep -qx "$f" || fail "File: $f missing"
done
[ "$(cell Directory 2 INSTALLDIR)" = DozorProgramDir ] && [ "$(cell Directory 2 DozorProgramDir)" = ProgramFiles64Folder ] \
  || fail "the program is not under Program Files (64-bit)"
[ "$(cell Directory 2 DATADIR)" = CommonAppDataFolder ] && [ "$(cell Directory 3 DATADIR)" = Dozor ] \
  || fail "the data folder is not ProgramData\\Dozor"

if [ "$failures" -gt 0 ]; then
  echo "check-msi: $failures problem(s) in the MSI built from agent/src/msi/dozor-agent.wxs" >&2
  exit 1
fi
echo "check-msi: the MSI builds, and its service, custom action, sequence, upgrade and file tables are as intended"
