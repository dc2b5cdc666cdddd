# Forbear — the README's commands. Everything installs and starts what it needs.
SHELL := /bin/bash
PY := .venv/bin/python
ENV := set -a && . deploy/local/env.sh && set +a

.PHONY: run down test bench lint venv infra-up infra-down status chaos redrive rebuild-readmodel

venv: .venv/.installed

.venv/.installed: requirements.lock shared/pyproject.toml services/*/pyproject.toml
	@test -x $(PY) || python3 -m venv .venv
	@echo "[make] installing Python packages (pinned in requirements.lock)"
	@.venv/bin/pip install -q -r requirements.lock
	@.venv/bin/pip install -q --no-deps -e shared -e services/intake -e services/evaluation -e services/agreement -e services/monitoring -e services/console -e services/simulator -e services/policy_lab
	@touch $@

infra-up: venv
	@bash deploy/local/infra.sh up

infra-down:
	@bash deploy/local/infra.sh down

## make run: Kafka, Postgres, Keycloak and every service up on local defaults, demo data flowing
## (evidence on this machine's disk, FORBEAR_EVIDENCE_DIR: the S3 store is for tests, bench, compose, k8s)
run: venv
	@bash deploy/local/infra.sh up postgres kafka keycloak
	@bash deploy/local/run.sh

## make down: stop exactly what make run started (by recorded pids)
down:
	@$(ENV) && $(PY) -m forbear_shared.devstack down 2>/dev/null || true
	@bash deploy/local/run.sh stop-extras
	@bash deploy/local/infra.sh down

status:
	@bash deploy/local/infra.sh status
	@$(ENV) && $(PY) -m forbear_shared.devstack status

## make test: every test against the real broker and database (starts and stops them)
test:
	@# the object store's one-off build (minutes, cold) overlaps the installation of the venv
	@mkdir -p "$${FORBEAR_VAR_DIR:-/var/tmp/forbear}" && (bash deploy/local/infra.sh build \
	  >"$${FORBEAR_VAR_DIR:-/var/tmp/forbear}/object-store-build.log" 2>&1 &)
	@$(MAKE) --no-print-directory venv
	@bash deploy/local/test.sh

bench: infra-up
	@$(ENV) && $(PY) -m tests.load.bench

## make chaos: seeded fault campaigns on a private Kafka + Postgres pair of their own (RUNS=N, SEED=S);
## the identity provider and the object store are the shared ones (started if they are not running)
RUNS ?= 1
chaos: venv
	@bash deploy/local/infra.sh up keycloak s3
	@$(ENV) && $(PY) -m tests.chaos.campaign --runs $(RUNS) $(if $(SEED),--seed $(SEED))

## make redrive ARGS="list --service intake" | ARGS="replay --service intake --offset 3 --actor NAME"
redrive: venv
	@$(ENV) && $(PY) -m forbear_shared.redrive $(ARGS)

lint: venv
	@.venv/bin/ruff check shared services tests
	@.venv/bin/mypy --strict shared/forbear_shared/domain services/*/forbear_*/domain

## make rebuild-readmodel: the console's read model again from offset 0 (stop the console worker first)
rebuild-readmodel: venv
	@$(ENV) && $(PY) -m forbear_console.readmodel rebuild
