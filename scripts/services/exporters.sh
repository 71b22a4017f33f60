#!/usr/bin/env bash
# Starts (idempotently) the Prometheus exporters the Storage dashboard reads, from the Debian
# packages in scripts/ci/apt-packages.txt, on loopback ports of their own:
#   redis     prometheus-redis-exporter      127.0.0.1:9391 -> Redis 127.0.0.1:6379
#   postgres  prometheus-postgres-exporter   127.0.0.1:9392 -> Postgres 127.0.0.1:5432 (db postgres)
#   pgbouncer scripts/services/pgbouncer-exporter.mjs 127.0.0.1:9393 -> PgBouncer 127.0.0.1:6433 (scripts/services/pgbouncer.sh)
#             (the Debian prometheus-pgbouncer-exporter 1.7 crashes against current PgBouncer; ours
#             serves the prometheus-community pgbouncer_exporter metric names)
# Usage:
#   scripts/services/exporters.sh [start] [redis|postgres|pgbouncer ...]   default: all three
#   scripts/services/exporters.sh stop    [redis|postgres|pgbouncer ...]   stop those this script started (PID files)
# An exporter whose port already answers is left alone (another run started it). PID files and
# logs live in <repo>/.run/exporters/ (gitignored). Ports, targets: AISFLOW_EXPORTER_* below.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
run="$root/.run/exporters"
mkdir -p "$run"

redis_port="${AISFLOW_EXPORTER_REDIS_PORT:-9391}"
postgres_port="${AISFLOW_EXPORTER_POSTGRES_PORT:-9392}"
pgbouncer_port="${AISFLOW_EXPORTER_PGBOUNCER_PORT:-9393}"
redis_url="${AISFLOW_EXPORTER_REDIS_URL:-redis://127.0.0.1:6379}"
postgres_dsn="${AISFLOW_EXPORTER_POSTGRES_DSN:-postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
pgbouncer_host="${AISFLOW_EXPORTER_PGBOUNCER_HOST:-127.0.0.1}"
pgbouncer_target_port="${AISFLOW_EXPORTER_PGBOUNCER_TARGET_PORT:-6433}"

action="start"
if [[ "${1:-}" == "start" || "${1:-}" == "stop" ]]; then action="$1"; shift; fi
names=("$@")
((${#names[@]})) || names=(redis postgres pgbouncer)

port_of() { local v="${1}_port"; echo "${!v}"; }
answers() { nc -z 127.0.0.1 "$1" >/dev/null 2>&1; }

# Several test runs may call this at once: one at a time decides whether to start.
exec 9>"$run/.lock"
flock 9

start_one() {
  local name="$1" port bin
  port="$(port_of "$name")"
  if answers "$port"; then echo "exporters: $name already answers on 127.0.0.1:$port"; return 0; fi
  case "$name" in
    redis)
      bin=/usr/bin/prometheus-redis-exporter
      cmd=("$bin" -redis.addr "$redis_url" -web.listen-address "127.0.0.1:$port" -redis-only-metrics=false)
      ;;
    postgres)
      bin=/usr/bin/prometheus-postgres-exporter
      # The DSN travels in the environment (the exporter's only way besides a file).
      export DATA_SOURCE_NAME="$postgres_dsn"
      cmd=("$bin" "--web.listen-address=127.0.0.1:$port" --auto-discover-databases --exclude-databases=template0,template1)
      ;;
    pgbouncer)
      bin="$(command -v node)"
      # It reads PgBouncer's admin console (SHOW POOLS/STATS) as the admin user of pgbouncer.sh.
      cmd=("$bin" "$root/scripts/services/pgbouncer-exporter.mjs" --listen "127.0.0.1:$port" --pgbouncer "postgresql://postgres@$pgbouncer_host:$pgbouncer_target_port/pgbouncer")
      ;;
    *) echo "exporters: unknown exporter '$name' (redis|postgres|pgbouncer)" >&2; return 2 ;;
  esac
  [[ -x "$bin" ]] || { echo "exporters: $bin missing for $name (see scripts/ci/apt-packages.txt)" >&2; return 1; }
  # 9>&-: the exporter must not inherit (and so hold) the start-up lock
  setsid "${cmd[@]}" >"$run/$name.log" 2>&1 < /dev/null 9>&- &
  echo $! > "$run/$name.pid"
  for _ in $(seq 1 100); do answers "$port" && break; sleep 0.1; done
  if ! answers "$port"; then
    echo "exporters: $name did not start on 127.0.0.1:$port; log follows" >&2
    tail -n 20 "$run/$name.log" >&2 || true
    return 1
  fi
  echo "exporters: started $name (pid $(cat "$run/$name.pid")) on 127.0.0.1:$port"
}

stop_one() {
  local name="$1" pidfile="$run/$1.pid" pid
  [[ -s "$pidfile" ]] || { echo "exporters: no PID file for $name; nothing to stop"; return 0; }
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "exporters: stopped $name (pid $pid)"
  fi
  rm -f "$pidfile"
}

status=0
for name in "${names[@]}"; do
  if [[ "$action" == "stop" ]]; then stop_one "$name" || status=1; else start_one "$name" || status=1; fi
done
exit "$status"
