#!/usr/bin/env bash
# make test: start Kafka, Postgres, Keycloak and the S3 store unless they already run, run every test, stop
# what we started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
. "$here/env.sh"
# the parts that are not running now are the ones this run starts, and so stops
status=$(bash "$here/infra.sh" status)
started=()
for part in postgres kafka keycloak s3; do
  [[ "$status" == *"$part: up"* ]] || started+=("$part")
done
cleanup() { if ((${#started[@]})); then bash "$here/infra.sh" down "${started[@]}"; fi; }
trap cleanup EXIT
bash "$here/prereqs.sh"
bash "$here/infra.sh" up
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
exit $rc
