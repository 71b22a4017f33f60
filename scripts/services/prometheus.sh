#!/usr/bin/env bash
# Runs the Debian package's Prometheus server (/usr/bin/prometheus) for tests: loopback only,
# with the caller's config file and a throw-away data directory.
#   scripts/services/prometheus.sh start --config FILE --data DIR [--port N]   default port 9390
#       starts in the background, waits for /-/ready, prints the PID (also DIR/prometheus.pid)
#   scripts/services/prometheus.sh stop --data DIR
#       stops the server started with that data directory (by its PID file) and removes DIR
# A port that already answers is an error: another run owns it (pick a free port with --port).
set -euo pipefail
action="${1:-}"; shift || true
config="" data="" port="${AISFLOW_PROMETHEUS_PORT:-9390}"
while (($#)); do
  case "$1" in
    --config) config="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    *) echo "prometheus.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n "$data" ]] || { echo "prometheus.sh: --data DIR is required" >&2; exit 2; }
pidfile="$data/prometheus.pid"

answers() { nc -z 127.0.0.1 "$port" >/dev/null 2>&1; }

case "$action" in
  start)
    [[ -f "$config" ]] || { echo "prometheus.sh: --config FILE is required and must exist" >&2; exit 2; }
    bin=/usr/bin/prometheus
    [[ -x "$bin" ]] || { echo "prometheus.sh: $bin missing (Debian package prometheus; see scripts/ci/apt-packages.txt)" >&2; exit 1; }
    if answers; then echo "prometheus.sh: 127.0.0.1:$port is already in use" >&2; exit 1; fi
    mkdir -p "$data/tsdb"
    # --web.enable-lifecycle lets a test reload the config; the console templates of the Debian
    # package are not needed. 1s minimum block duration keeps the TSDB small for short runs.
    setsid "$bin" \
      --config.file="$config" \
      --storage.tsdb.path="$data/tsdb" \
      --storage.tsdb.retention.time=1h \
      --web.listen-address="127.0.0.1:$port" \
      --web.enable-lifecycle \
      --log.level=warn \
      >"$data/prometheus.log" 2>&1 </dev/null &
    echo $! > "$pidfile"
    for _ in $(seq 1 300); do
      if curl -fsS "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1; then cat "$pidfile"; exit 0; fi
      kill -0 "$(cat "$pidfile")" 2>/dev/null || break
      sleep 0.1
    done
    echo "prometheus.sh: Prometheus did not become ready on 127.0.0.1:$port; log follows" >&2
    tail -n 20 "$data/prometheus.log" >&2 || true
    kill "$(cat "$pidfile")" 2>/dev/null || true
    exit 1
    ;;
  stop)
    if [[ -s "$pidfile" ]]; then
      pid="$(cat "$pidfile")"
      if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
      fi
    fi
    rm -rf "$data"
    ;;
  *) echo "usage: prometheus.sh start --config FILE --data DIR [--port N] | stop --data DIR" >&2; exit 2 ;;
esac
