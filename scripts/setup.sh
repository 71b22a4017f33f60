#!/usr/bin/env bash
# Everything `npm test` needs on a fresh machine, idempotently: the Debian packages and helm
# (scripts/ci/install-system-deps.sh), then the npm dependencies when they are missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/ci/install-system-deps.sh"
if [[ ! -d "$root/node_modules/vitest" || ! -d "$root/node_modules/typescript" ]]; then
  echo "installing npm dependencies (npm ci)"
  (cd "$root" && npm ci --no-audit --no-fund)
fi
