#!/usr/bin/env bash
# End-to-end check on a real Kubernetes (kind), for people with Docker. Not run in CI: the CI
# machine has no container runtime, so the repository's operator tests use a loopback fake API
# server instead (test/harness/fake-kube-apiserver.ts).
#
#   scripts/e2e/kind.sh            # create cluster, build+load image, install chart, apply example
#   KEEP=1 scripts/e2e/kind.sh     # leave the cluster running afterwards
#
# Needs: docker, kind, kubectl, helm (scripts/ci/install-helm.sh installs the last two).
set -euo pipefail
cd "$(dirname "$0")/../.."
cluster="${CLUSTER:-aisflow-e2e}"
image="ghcr.io/aisflow/aisflow:e2e"
PATH="$PWD/.tools/bin:$PATH"

for tool in docker kind kubectl helm; do
  command -v "$tool" >/dev/null || { echo "kind.sh: $tool is required" >&2; exit 1; }
done

cleanup() { [[ "${KEEP:-0}" == 1 ]] || kind delete cluster --name "$cluster"; }
trap cleanup EXIT

kind get clusters | grep -qx "$cluster" || kind create cluster --name "$cluster" --wait 120s
kubectl config use-context "kind-$cluster"

echo "== image"
if [[ -f Dockerfile ]]; then
  docker build -t "$image" .
  kind load docker-image "$image" --name "$cluster"
else
  echo "no Dockerfile in this checkout: using the published image" >&2
  image="ghcr.io/aisflow/aisflow:$(node -p 'require("./package.json").version')"
fi

echo "== operator"
helm upgrade --install aisflow charts/aisflow-operator --namespace aisflow-system --create-namespace \
  --set image.repository="${image%:*}" --set image.tag="${image##*:}" --set image.pullPolicy=IfNotPresent --wait --timeout 5m
kubectl -n aisflow-system get lease

echo "== CEL rules reject a bad spec"
kubectl create namespace ais --dry-run=client -o yaml | kubectl apply -f -
if kubectl apply -n ais -f - <<'YAML' 2>/tmp/aisflow-e2e-cel.txt; then echo "expected a CEL rejection" >&2; exit 1; fi
apiVersion: aisflow.io/v1alpha1
kind: AisPipeline
metadata: { name: bad }
spec: { fusion: { autoscaling: { mode: hpa, minReplicas: 5, maxReplicas: 2 } } }
YAML
grep -q 'minReplicas must be <= ' /tmp/aisflow-e2e-cel.txt

echo "== a pipeline"
kubectl apply -n ais -f crds/examples/minimal.yaml
kubectl -n ais wait aispipeline/minimal --for=jsonpath='{.status.observedGeneration}'=1 --timeout=2m
kubectl -n ais wait aispipeline/minimal --for=condition=Ready --timeout=10m
kubectl -n ais get aispipelines,statefulsets,deployments,jobs

echo "== scale through the scale subresource"
kubectl -n ais scale aispipeline/minimal --replicas=3
kubectl -n ais wait deployment/minimal-fusion --for=jsonpath='{.spec.replicas}'=3 --timeout=2m

echo "== pause"
kubectl -n ais annotate aispipeline/minimal aisflow.io/paused=true --overwrite
kubectl -n ais wait aispipeline/minimal --for=jsonpath='{.status.phase}'=Paused --timeout=1m
kubectl -n ais annotate aispipeline/minimal aisflow.io/paused-

echo "== delete"
kubectl -n ais delete aispipeline/minimal --wait --timeout=5m
echo "e2e ok"
