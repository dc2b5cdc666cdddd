# Processes started by deploy/local's scripts are known by the pid file they wrote, and stopped by
# that pid only (never by name). Sourced by infra.sh and run.sh.

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pidfile NAME PIDFILE [SECONDS]: SIGTERM, wait up to SECONDS (default 60), then SIGKILL
stop_pidfile() {
  local name=$1 file=$2 wait=${3:-60} pid
  if alive "$file"; then
    pid=$(cat "$file")
    echo "[${LOG_TAG:-local}] stopping $name (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 "$wait"); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$file"
}
