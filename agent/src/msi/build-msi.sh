#!/usr/bin/env bash
# Builds the agent's MSI with wixl (Debian package "wixl", msitools) from dozor-agent.wxs:
#   agent/src/msi/build-msi.sh AGENT_DIR JRE_DIR OUT.msi [VERSION]
# AGENT_DIR: the unpacked agent/target/dozor-agent-windows.zip (dozor-agent.jar, agent.ini, README.txt);
# JRE_DIR: a Windows runtime made by make-runtime.cmd (jlink, on Windows: its bin\java.exe runs the service).
# VERSION: the project's by default, without -SNAPSHOT (an MSI version is numbers only, major at most 255).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
agent=$(cd "$1" && pwd)
jre=$(cd "$2" && pwd)
out=$3
command -v wixl >/dev/null && command -v wixl-heat >/dev/null \
  || { echo "build-msi: wixl is required (apt-get install wixl)" >&2; exit 1; }
[ -f "$jre/bin/java.exe" ] || { echo "build-msi: $jre/bin/java.exe is missing (not a Windows runtime?)" >&2; exit 1; }
version=${4:-$(sed -n 's:.*<version>\([0-9][0-9.]*\)\(-SNAPSHOT\)\{0,1\}</version>.*:\1:p' "$here/../../pom.xml" | head -n1)}
[ -n "$version" ] || { echo "build-msi: cannot read the version from agent/pom.xml" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# every file of the runtime but java.exe (the service's component has it) in one component group
(cd "$jre/.." && find "$(basename "$jre")" -type f ! -path '*/bin/java.exe' | sort) \
  | wixl-heat -p "$(basename "$jre")/" --directory-ref JREDIR --component-group JreFiles --var var.JreDir --win64 \
  > "$work/jre.wxs"
# wixl takes the files' Source paths relative to where it runs: agent/, jre/ and msi/ there
ln -s "$agent" "$work/agent"
ln -s "$jre" "$work/jre"
ln -s "$here" "$work/msi"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
(cd "$work" && wixl -a x64 -D Version="$version" -D Win64=yes -D JreDir=jre -o "$out" msi/dozor-agent.wxs jre.wxs)
# wixl sequences RemoveExistingProducts after InstallServices: an upgrade would then install the new service
# and let the old product's uninstall delete it. Remove the old product first, as WiX's afterInstallValidate.
msibuild "$out" -q "UPDATE InstallExecuteSequence SET Sequence = 1450 WHERE Action = 'RemoveExistingProducts'"
# the settings' properties must reach the deferred custom action in every kind of install (wixl has no Secure=)
secure=$(msiinfo export "$out" Property | awk -F'\t' '$1 == "SecureCustomProperties" { print $2 }' | tr -d '\r')
msibuild "$out" -q "UPDATE Property SET Value = '${secure:+$secure;}SERVER_URL;TOKEN;ENROLLMENT_TOKEN;CA_FILE' WHERE Property = 'SecureCustomProperties'"
echo "build-msi: $out (version $version)"
