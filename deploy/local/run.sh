#!/usr/bin/env bash
# make run: services up on local defaults (Kafka and Postgres are started by infra.sh first).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
. "$here/env.sh"
PY=.venv/bin/python
run_dir=$FORBEAR_VAR_DIR/run
case "${1:-up}" in
  up)
    $PY -m forbear_shared.devstack up --run-dir "$run_dir"
    echo
    echo "Forbear is up. Logs: $run_dir/*.log · stop everything with: make down"
    ;;
  stop-extras)
    true
    ;;
esac
