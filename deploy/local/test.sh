#!/usr/bin/env bash
# make test: start Kafka, Postgres and Keycloak unless they already run, run every test, stop what we started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
. "$here/env.sh"
started=""
status=$(bash "$here/infra.sh" status)
if [[ "$status" != *"kafka: up"* || "$status" != *"postgres: up"* || "$status" != *"keycloak: up"* ]]; then
  started=yes
fi
cleanup() { if [ -n "$started" ]; then bash "$here/infra.sh" down; fi; }
trap cleanup EXIT
bash "$here/prereqs.sh"
bash "$here/infra.sh" up
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
exit $rc
