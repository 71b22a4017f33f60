#!/usr/bin/env bash
# Installs (idempotently) the Debian packages listed in apt-packages.txt and the helm/kubectl
# binaries the chart tests use. Safe to run again: it only installs what is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

missing=()
while read -r pkg; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done < "$here/apt-packages.txt"

if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Packaged daemons are never used: tests start their own servers on their own ports.
fi

if [[ -x "$here/install-helm.sh" ]]; then "$here/install-helm.sh" "$root/.tools/bin"; fi
