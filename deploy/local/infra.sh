#!/usr/bin/env bash
# Real Kafka (KRaft, single node), real PostgreSQL 15, a real Keycloak (the identity provider) and a
# real S3-compatible object store (versitygw, for evidence documents) on loopback, without Docker.
#   infra.sh up      install what is missing, start all four (idempotent), create DB, roles, topics,
#                    the realm (deploy/keycloak/forbear-realm.json, imported afresh at each start)
#   infra.sh down    stop what this script started, by the pids it recorded
#   infra.sh status
# Each command takes the parts to act on (default: all four), e.g. `infra.sh up postgres kafka`;
# with FORBEAR_VAR_DIR and the port variables of env.sh set, a second, private set runs beside the
# first (the fault tests stop and start theirs while the shared one keeps running).
# FORBEAR_PG_STOP_MODE=immediate makes `down postgres` a crash-like stop (pg_ctl -m immediate).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/env.sh"
PY=${FORBEAR_PYTHON:-$root/.venv/bin/python}
var=$FORBEAR_VAR_DIR
pgbin=/usr/lib/postgresql/15/bin
pgdata=$var/pgdata
pgsock=$var/pgsock
kdir=$var/kafka
klibs=$FORBEAR_CACHE_DIR/kafka-$FORBEAR_KAFKA_VERSION/libs
kc_home=$FORBEAR_CACHE_DIR/keycloak-$FORBEAR_KEYCLOAK_VERSION
kcdir=$var/keycloak
s3dir=$var/s3
vgw_bin=$FORBEAR_CACHE_DIR/versitygw-$FORBEAR_VERSITYGW_VERSION/bin/versitygw
realm_file=$root/deploy/keycloak/forbear-realm.json
mkdir -p "$var"
chmod 755 "$var"

log() { echo "[infra] $*"; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

LOG_TAG=infra
. "$here/pids.sh"

ensure_postgres_installed() {
  if [ ! -x "$pgbin/postgres" ]; then
    log "installing PostgreSQL 15 from Debian's packages"
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq postgresql-15 >/dev/null
    else sudo apt-get update -qq && sudo apt-get install -y -qq postgresql-15 >/dev/null; fi
  fi
}

ensure_kafka_jars() {
  if [ ! -f "$klibs/kafka_2.13-$FORBEAR_KAFKA_VERSION.jar" ]; then
    log "fetching Kafka $FORBEAR_KAFKA_VERSION jars with Maven into $klibs"
    command -v mvn >/dev/null || { apt-get update -qq && apt-get install -y -qq maven >/dev/null; }
    mkdir -p "$klibs.tmp"
    (cd "$here/kafka" && mvn -B -q -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$klibs.tmp")
    rm -rf "$klibs" && mv "$klibs.tmp" "$klibs"
  fi
}

pg_up() {
  ensure_postgres_installed
  if as_postgres "$pgbin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    log "postgres already running on 127.0.0.1:$FORBEAR_PG_PORT"
  else
    if [ ! -f "$pgdata/PG_VERSION" ]; then
      log "initialising a throw-away cluster in $pgdata"
      mkdir -p "$pgdata" && chmod 700 "$pgdata"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$pgdata"
      pwfile=$(mktemp); echo "postgres-local" > "$pwfile"; chmod 644 "$pwfile"
      as_postgres "$pgbin/initdb" -D "$pgdata" -U postgres --pwfile="$pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
      rm -f "$pwfile"
    fi
    mkdir -p "$pgsock" "$var/pglog"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$pgsock" "$var/pglog"
    log "starting postgres on 127.0.0.1:$FORBEAR_PG_PORT"
    as_postgres "$pgbin/pg_ctl" -D "$pgdata" -l "$var/pglog/postgres.log" -w -t 60 \
      -o "-p $FORBEAR_PG_PORT -k $pgsock -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on -c shared_buffers=256MB -c max_wal_size=4GB -c synchronous_commit=on" start >/dev/null
  fi
  # roles and database, idempotently (local socket, trust)
  psql_admin() { as_postgres psql -h "$pgsock" -p "$FORBEAR_PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
  if [ "$(psql_admin -d postgres -c "select 1 from pg_roles where rolname='$FORBEAR_DB_USER'")" != 1 ]; then
    psql_admin -d postgres -c "create role $FORBEAR_DB_USER login createdb password '$FORBEAR_DB_PASSWORD'"
  fi
  if [ "$(psql_admin -d postgres -c "select 1 from pg_database where datname='$FORBEAR_DB_NAME'")" != 1 ]; then
    psql_admin -d postgres -c "create database $FORBEAR_DB_NAME owner $FORBEAR_DB_USER"
  fi
}

kafka_up() {
  ensure_kafka_jars
  if alive "$kdir/kafka.pid"; then
    log "kafka already running on 127.0.0.1:$FORBEAR_KAFKA_PORT (pid $(cat "$kdir/kafka.pid"))"
  else
    mkdir -p "$kdir/data" "$kdir/logs"
    sed -e "s#@KAFKA_PORT@#$FORBEAR_KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$FORBEAR_KAFKA_CONTROLLER_PORT#g" \
        -e "s#@DATA_DIR@#$kdir/data#g" "$here/kafka/server.properties.in" > "$kdir/server.properties"
    if [ ! -f "$kdir/data/meta.properties" ]; then
      cid=$(java -Dlog4j.configuration="file:$here/kafka/log4j.properties" -Dkafka.logs.dir="$kdir/logs" -cp "$klibs/*" kafka.tools.StorageTool random-uuid)
      java -Dlog4j.configuration="file:$here/kafka/log4j.properties" -Dkafka.logs.dir="$kdir/logs" -cp "$klibs/*" kafka.tools.StorageTool format -t "$cid" -c "$kdir/server.properties" --ignore-formatted >/dev/null
    fi
    log "starting kafka $FORBEAR_KAFKA_VERSION on 127.0.0.1:$FORBEAR_KAFKA_PORT"
    nohup java -Xms512m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
      -Dlog4j.configuration="file:$here/kafka/log4j.properties" -Dkafka.logs.dir="$kdir/logs" \
      -cp "$klibs/*" kafka.Kafka "$kdir/server.properties" >"$kdir/logs/stdout.log" 2>&1 &
    echo $! > "$kdir/kafka.pid"
  fi
  # ready means a client metadata call answers, not just an open port
  "$PY" -m forbear_shared.kafka_admin wait --timeout 120
}

topics() { "$PY" -m forbear_shared.kafka_admin create-topics; }

# Keycloak 26 needs Java 21 or newer: FORBEAR_KEYCLOAK_JAVA_HOME, else the newest JDK >= 21 in
# /usr/lib/jvm (Debian's default Java is 17; these machines carry a Java 25 beside it)
keycloak_java_home() {
  if [ -n "${FORBEAR_KEYCLOAK_JAVA_HOME:-}" ]; then echo "$FORBEAR_KEYCLOAK_JAVA_HOME"; return; fi
  local best="" best_major=0 dir major
  for dir in /usr/lib/jvm/*/; do
    dir=${dir%/}
    [ -x "$dir/bin/java" ] && [ -f "$dir/release" ] || continue
    major=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$dir/release")
    if [ -n "$major" ] && [ "$major" -ge 21 ] && [ "$major" -gt "$best_major" ]; then best=$dir; best_major=$major; fi
  done
  [ -n "$best" ] || { echo "[infra] Keycloak needs Java 21 or newer: none in /usr/lib/jvm (set FORBEAR_KEYCLOAK_JAVA_HOME)" >&2; return 1; }
  echo "$best"
}

ensure_keycloak_dist() {
  if [ ! -x "$kc_home/bin/kc.sh" ]; then
    log "fetching Keycloak $FORBEAR_KEYCLOAK_VERSION (org.keycloak:keycloak-quarkus-dist, zip) with Maven"
    command -v mvn >/dev/null || { apt-get update -qq && apt-get install -y -qq maven >/dev/null; }
    local zips=$FORBEAR_CACHE_DIR/keycloak-zip
    mkdir -p "$zips"
    mvn -B -q -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
      -Dartifact="org.keycloak:keycloak-quarkus-dist:$FORBEAR_KEYCLOAK_VERSION:zip" -DoutputDirectory="$zips"
    rm -rf "$kc_home" "$kc_home.tmp" && mkdir -p "$kc_home.tmp"
    "$PY" -m zipfile -e "$zips/keycloak-quarkus-dist-$FORBEAR_KEYCLOAK_VERSION.zip" "$kc_home.tmp"
    mv "$kc_home.tmp/keycloak-$FORBEAR_KEYCLOAK_VERSION" "$kc_home" && rm -rf "$kc_home.tmp"
    chmod +x "$kc_home"/bin/*.sh
  fi
}

issuer_answers() {
  "$PY" -c 'import sys, httpx; sys.exit(httpx.get(sys.argv[1] + "/.well-known/openid-configuration", timeout=3).status_code != 200)' \
    "$FORBEAR_OIDC_ISSUER" 2>/dev/null
}

keycloak_up() {
  if alive "$kcdir/keycloak.pid"; then
    log "keycloak already running on 127.0.0.1:$FORBEAR_KEYCLOAK_PORT (pid $(cat "$kcdir/keycloak.pid"))"
  else
    ensure_keycloak_dist
    local jhome; jhome=$(keycloak_java_home)
    mkdir -p "$kcdir"
    # development mode keeps its H2 database in the distribution's data/: a fresh one per start, so
    # that the realm is always the one in deploy/keycloak/
    rm -rf "$kc_home/data/h2" "$kc_home/data/import" && mkdir -p "$kc_home/data/import"
    cp "$realm_file" "$kc_home/data/import/"
    log "starting keycloak $FORBEAR_KEYCLOAK_VERSION on 127.0.0.1:$FORBEAR_KEYCLOAK_PORT (Java $("$jhome/bin/java" -version 2>&1 | sed -n '1s/.*"\(.*\)".*/\1/p'))"
    JAVA_HOME=$jhome JAVA_OPTS_KC_HEAP="-Xms128m -Xmx768m" nohup "$kc_home/bin/kc.sh" start-dev \
      --http-host=127.0.0.1 --http-port="$FORBEAR_KEYCLOAK_PORT" \
      --http-management-port="$FORBEAR_KEYCLOAK_MANAGEMENT_PORT" --import-realm \
      >"$kcdir/keycloak.log" 2>&1 </dev/null &
    echo $! > "$kcdir/keycloak.pid"
  fi
}

# Keycloak boots while Kafka does (each takes half a minute or more on two cores)
keycloak_wait() {
  local started=$SECONDS
  until issuer_answers; do
    alive "$kcdir/keycloak.pid" || { log "keycloak exited; see $kcdir/keycloak.log"; tail -20 "$kcdir/keycloak.log" >&2; return 1; }
    if (( SECONDS - started > 240 )); then log "keycloak did not answer within 240 s; see $kcdir/keycloak.log"; return 1; fi
    sleep 1
  done
  log "keycloak answers for $FORBEAR_OIDC_ISSUER ($((SECONDS - started)) s)"
}

keycloak_down() { stop_pidfile keycloak "$kcdir/keycloak.pid"; }

# versitygw (Apache-2.0) has no Debian package or release on a registry reached here; it is a Go
# module, built once from the Go module proxy into the cache (module and build caches there too, so
# a cold build is the same on every machine). It needs Go >= 1.25 (its go.mod); GOTOOLCHAIN=local
# keeps the go command from fetching another toolchain.
go_command() {
  local candidate
  for candidate in "${FORBEAR_GO:-}" "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return; fi
  done
  echo "[infra] versitygw is built with Go >= 1.25: no go command found (set FORBEAR_GO)" >&2
  return 1
}

ensure_versitygw() {
  [ -x "$vgw_bin" ] && return
  # one build at a time: `make test` starts one in the background while it installs the venv,
  # and the `up` that needs the binary waits here for that build instead of starting a second
  mkdir -p "$FORBEAR_CACHE_DIR"
  exec {build_lock}>"$FORBEAR_CACHE_DIR/versitygw-build.lock"
  flock "$build_lock"
  if [ -x "$vgw_bin" ]; then flock -u "$build_lock"; return; fi
  local go gocache=$FORBEAR_CACHE_DIR/go started=$SECONDS
  go=$(go_command)
  log "building versitygw $FORBEAR_VERSITYGW_VERSION with $("$go" version | cut -d' ' -f3) (once, into $(dirname "$vgw_bin"); a cold build takes minutes)"
  local tmpbin; tmpbin=$(mktemp -d "$FORBEAR_CACHE_DIR/versitygw-build.XXXXXX")
  GOTOOLCHAIN=local GOPATH=$gocache GOMODCACHE=$gocache/pkg/mod GOCACHE=$gocache/build GOFLAGS=-modcacherw \
    GOBIN=$tmpbin CGO_ENABLED=0 "$go" install \
    -ldflags "-X=main.Version=$FORBEAR_VERSITYGW_VERSION -X=main.Build=module-proxy" \
    "github.com/versity/versitygw/cmd/versitygw@$FORBEAR_VERSITYGW_VERSION"
  mkdir -p "$(dirname "$vgw_bin")"
  mv -f "$tmpbin/versitygw" "$vgw_bin" && rmdir "$tmpbin"
  log "versitygw built in $((SECONDS - started)) s"
  flock -u "$build_lock"
}

s3_up() {
  ensure_versitygw
  if alive "$s3dir/versitygw.pid"; then
    log "versitygw already running on 127.0.0.1:$FORBEAR_S3_PORT (pid $(cat "$s3dir/versitygw.pid"))"
  else
    mkdir -p "$s3dir/data"
    log "starting versitygw $FORBEAR_VERSITYGW_VERSION (S3 on 127.0.0.1:$FORBEAR_S3_PORT, posix backend in $s3dir/data)"
    # the root credentials come from the environment, not the command line (ps shows argv)
    ROOT_ACCESS_KEY_ID=$FORBEAR_EVIDENCE_S3_ACCESS_KEY_ID ROOT_SECRET_ACCESS_KEY=$FORBEAR_EVIDENCE_S3_SECRET_ACCESS_KEY \
      nohup "$vgw_bin" --port "127.0.0.1:$FORBEAR_S3_PORT" --quiet posix "$s3dir/data" \
      >"$s3dir/versitygw.log" 2>&1 </dev/null &
    echo $! > "$s3dir/versitygw.pid"
  fi
  # ready means a signed S3 request (ListBuckets) answers with these credentials
  FORBEAR_EVIDENCE_S3_ENDPOINT_URL=http://127.0.0.1:$FORBEAR_S3_PORT "$PY" -m forbear_shared.object_store wait --timeout 60 || {
    log "versitygw did not answer; see $s3dir/versitygw.log"; tail -20 "$s3dir/versitygw.log" >&2; return 1; }
}

s3_down() { stop_pidfile versitygw "$s3dir/versitygw.pid"; }

pg_down() {
  if as_postgres "$pgbin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    log "stopping postgres"
    as_postgres "$pgbin/pg_ctl" -D "$pgdata" -m "${FORBEAR_PG_STOP_MODE:-fast}" -w stop >/dev/null
  fi
}

kafka_down() { stop_pidfile kafka "$kdir/kafka.pid"; }

command=${1:-}
shift || true
parts=" ${*:-postgres kafka keycloak s3} "
for part in $parts; do
  case "$part" in postgres|kafka|keycloak|s3) ;; *) echo "[infra] unknown part: $part (postgres, kafka, keycloak, s3)" >&2; exit 2 ;; esac
done
want() { [[ "$parts" == *" $1 "* ]]; }

case "$command" in
  build) ensure_versitygw ;;  # what `up` would build first (the object store), without starting anything
  up)
    if want postgres; then pg_up; fi
    if want keycloak; then keycloak_up; fi
    if want s3; then s3_up; fi
    if want kafka; then kafka_up; topics; fi
    if want keycloak; then keycloak_wait; fi ;;
  down)
    if want s3; then s3_down; fi
    if want keycloak; then keycloak_down; fi
    if want kafka; then kafka_down; fi
    if want postgres; then pg_down; fi ;;
  status)
    if want postgres; then as_postgres "$pgbin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1 && log "postgres: up" || log "postgres: down"; fi
    if want kafka; then alive "$kdir/kafka.pid" && log "kafka: up (pid $(cat "$kdir/kafka.pid"))" || log "kafka: down"; fi
    if want keycloak; then alive "$kcdir/keycloak.pid" && log "keycloak: up (pid $(cat "$kcdir/keycloak.pid"))" || log "keycloak: down"; fi
    if want s3; then alive "$s3dir/versitygw.pid" && log "s3: up (pid $(cat "$s3dir/versitygw.pid"))" || log "s3: down"; fi ;;
  *) echo "usage: $0 up|down|status [postgres] [kafka] [keycloak] [s3] | build" >&2; exit 2 ;;
esac
