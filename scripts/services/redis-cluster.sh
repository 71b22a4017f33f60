#!/usr/bin/env bash
# Starts (idempotently) a local 6-node Redis Cluster for tests and benchmarks: ports 7101-7106,
# 3 masters + 3 replicas, data and PID files under <repo>/.run/redis-cluster/ (gitignored).
#   scripts/services/redis-cluster.sh        start unless the cluster already reports cluster_state:ok
#   scripts/services/redis-cluster.sh stop   stop exactly the redis-server PIDs this script started
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
run="$root/.run/redis-cluster"
first="${AISFLOW_REDIS_CLUSTER_FIRST_PORT:-7101}"
ports=()
for i in 0 1 2 3 4 5; do ports+=($((first + i))); done

cluster_ok() { redis-cli -p "${ports[0]}" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }

mkdir -p "$run"
exec 9>"$root/.run/redis-cluster.lock"
flock 9
# (daemons started below must not inherit fd 9, or they would hold the lock forever)

if [[ "${1:-start}" == "stop" ]]; then
  # Read every PID once, before signalling: redis-server deletes its own PID file as it exits,
  # so a second read after the kill races with that and can find the file gone.
  declare -A stopped=()
  for port in "${ports[@]}"; do
    pid="$(cat "$run/$port/redis.pid" 2>/dev/null || true)"
    [[ -n "$pid" ]] || continue
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      stopped[$port]="$pid"
      echo "redis-cluster: stopped $port (pid $pid)"
    fi
  done
  for port in "${!stopped[@]}"; do
    for _ in $(seq 1 50); do kill -0 "${stopped[$port]}" 2>/dev/null || break; sleep 0.1; done
    rm -f "$run/$port/redis.pid"
  done
  exit 0
fi

if cluster_ok; then
  echo "redis-cluster: ${ports[0]}-${ports[5]} already cluster_state:ok"
  exit 0
fi

# Start whichever nodes are not answering. A node that answers but is not part of a healthy
# cluster (e.g. left over from an interrupted start) is reset below.
for port in "${ports[@]}"; do
  dir="$run/$port"
  mkdir -p "$dir"
  if redis-cli -p "$port" ping >/dev/null 2>&1; then continue; fi
  # Test data only: no persistence, so a restart begins from an empty node.
  rm -f "$dir/nodes.conf" "$dir/dump.rdb"
  redis-server --port "$port" --bind 127.0.0.1 --daemonize yes \
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
    --appendonly no --save '' --protected-mode no \
    9>&- </dev/null >>"$dir/redis.log" 2>&1
done

for port in "${ports[@]}"; do
  for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$port" ping >/dev/null 2>&1 || { echo "redis-cluster: node $port did not start" >&2; exit 1; }
done

# Create the cluster only when no node knows about the others yet; otherwise wait for it to settle.
known="$(redis-cli -p "${ports[0]}" cluster info | awk -F: '/^cluster_known_nodes/ {print $2}' | tr -d '\r')"
if [[ "$known" != "6" ]]; then
  for port in "${ports[@]}"; do redis-cli -p "$port" flushall >/dev/null; redis-cli -p "$port" cluster reset hard >/dev/null; done
  nodes=()
  for port in "${ports[@]}"; do nodes+=("127.0.0.1:$port"); done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$run/create.log"
fi

for _ in $(seq 1 200); do cluster_ok && break; sleep 0.1; done
cluster_ok || { echo "redis-cluster: cluster_state is not ok; see $run/create.log" >&2; exit 1; }
# Every node must agree, not only the first (clients may be redirected anywhere).
for port in "${ports[@]}"; do
  for _ in $(seq 1 100); do redis-cli -p "$port" cluster info | grep -q '^cluster_state:ok' && break; sleep 0.1; done
done
echo "redis-cluster: ${ports[0]}-${ports[5]} cluster_state:ok (3 masters, 3 replicas)"
