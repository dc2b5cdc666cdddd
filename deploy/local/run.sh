#!/usr/bin/env bash
# make run: services up on local defaults (Kafka and Postgres are started by infra.sh first),
# then the demo simulator in the background.
#   run.sh up            services + console (devstack) and the demo simulator; safe to re-run
#   run.sh stop-extras   stop what run.sh started besides devstack's processes (the simulator)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
. "$here/env.sh"
PY=.venv/bin/python
run_dir=$FORBEAR_VAR_DIR/run
sim_pid=$run_dir/simulator.pid
sim_log=$run_dir/simulator.log
mkdir -p "$run_dir"

LOG_TAG=run
. "$here/pids.sh"

case "${1:-up}" in
  up)
    # the lender's demo CA and signing certificate for the signed agreement PDFs, made once under
    # the state dir (README "Signed agreements"); a configured FORBEAR_AGREEMENT_SIGNING_PKCS12_FILE wins
    if [ -z "${FORBEAR_AGREEMENT_SIGNING_PKCS12_FILE:-}" ]; then
      eval "$($PY -m forbear_agreement demo-keys "$FORBEAR_VAR_DIR/signing")"
    fi
    # the four services, the console and the borrowers' portal (devstack starts them too; it
    # reuses live pids)
    $PY -m forbear_shared.devstack up --run-dir "$run_dir"
    for door in console:8100 portal:8105; do
      if ! $PY -c "import sys, httpx; sys.exit(httpx.get('http://127.0.0.1:${door#*:}/healthz', timeout=5).status_code != 200)" 2>/dev/null; then
        echo "[run] the ${door%%:*} does not answer on :${door#*:}; see $run_dir/${door%%:*}.log" >&2
        exit 1
      fi
    done
    if alive "$sim_pid"; then
      echo "[run] demo simulator already running (pid $(cat "$sim_pid")), not starting another"
    else
      echo "[run] starting the demo simulator (seed ${FORBEAR_DEMO_SEED:-7}; one business day every ${FORBEAR_DEMO_DAY_SECONDS:-2.5} s)"
      # its own session, so that stopping it never touches this shell; the pid is written here
      # (not by the child) so that a second `make run` sees it at once
      setsid nohup $PY -m forbear_simulator demo --seed "${FORBEAR_DEMO_SEED:-7}" \
        --day-seconds "${FORBEAR_DEMO_DAY_SECONDS:-2.5}" --demo-borrower-password borrower1-demo \
        >>"$sim_log" 2>&1 </dev/null &
      echo $! > "$sim_pid"
    fi
    cat <<INFO

Forbear is up.
  console     http://127.0.0.1:8100   (log in at Keycloak: agent1 / agent1-demo, super1 / super1-demo)
  portal      http://127.0.0.1:8105   (中文 / English; log in as borrower1 / borrower1-demo, loan LN-DEMO-0001,
              a borrower the demo leaves to you; README "Borrower portal")
  identity    http://127.0.0.1:18080/realms/forbear   (Keycloak, realm deploy/keycloak/forbear-realm.json)
  APIs        http://127.0.0.1:8101/docs intake · :8102/docs evaluation · :8103/docs agreement · :8104/docs monitoring
  metrics     :8101-8104/metrics (APIs), :9101-9104/metrics (workers), :8100/metrics (console), :8105/metrics (portal), :9100/metrics (console worker: the read model, forbear_kpi_* gauges)
  demo        the simulator opens cases and advances the business date; first states show within
              a minute or two (log: $sim_log)
  logs        $run_dir/*.log
  stop        make down
INFO
    ;;
  stop-extras)
    stop_pidfile "the demo simulator" "$sim_pid" 15
    ;;
  *) echo "usage: $0 [up|stop-extras]" >&2; exit 2 ;;
esac
