"""The fault campaign (``make chaos``): the whole system under seeded faults, then the books checked.

``python -m tests.chaos.campaign --runs 3 --seed 7``

Each run starts the services as processes (``forbear_shared.devstack.Stack``) on a private
Kafka and Postgres pair (``tests.support.private_infra``; one pair for every run of the
campaign, a fresh database and topic prefix per run; the shared infrastructure is never
touched; the shared Keycloak stays the issuer, tokens come from the test issuer). While
borrowers' journeys run through the APIs (Idempotency-Keys; clients retry on 5xx and
connection errors as real clients do), core banking sends payments (some of them twice: the
same bytes again, or the same reference in a new event) and close of business runs, the
campaign injects faults at seeded times: SIGKILL and restart of an API or a worker, SIGSTOP /
SIGCONT of a worker, SIGKILL and restart of the broker, an immediate Postgres stop and restart.
It restarts what it killed, and only that: a process that died on its own stays dead and is
reported as ``died``.

Then it waits for quiescence (every outbox drained, every consumer group at the end of its
topics) and checks the books: every payment recorded once, every applied payment announced
once, every journey's events once, every missed instalment detected once. What the
acknowledged steps promised and is missing is ``lost``; a business fact with more than one
event id is ``doubled``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import signal
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
from forbear_shared.devstack import API_PORTS, SERVICES, WORKER_METRICS_PORTS, Proc, Stack
from forbear_shared.events import encode, new_event
from forbear_shared.events.schemas.corebanking import PaymentReceived
from forbear_shared.kafka_admin import admin, wait_for_broker
from forbear_simulator.client import tiny_pdf, tiny_png
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from psycopg.rows import dict_row

from tests.e2e.journey import UNEMPLOYED_STATEMENT, d, loan_snapshot
from tests.support.calendar import missed_on
from tests.support.identity import TEST_ISSUER
from tests.support.infra import TestInfra, read_topic, signing_code, start_test_infra, stop_test_infra
from tests.support.private_infra import PrivateInfra

ROOT = Path(__file__).resolve().parents[2]

#: what each worker consumes (its group must reach the end of each of these topics)
CONSUMED = {
    "intake": ("corebanking.loans", "evaluation.events", "agreement.events", "monitoring.events"),
    "evaluation": ("intake.events", "agreement.events", "monitoring.events"),
    "agreement": ("monitoring.events", "evaluation.events"),
    "monitoring": ("agreement.events", "corebanking.payments", "intake.events", "evaluation.events"),
}

FAULT_KINDS = ("kill_api", "kill_worker", "pause_worker", "kill_kafka", "stop_postgres")


def log(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- the run's configuration ----------------------------------------------------------------------


@dataclass(frozen=True)
class RunPlan:
    seed: int
    journeys: int = 6
    payments: int = 300
    faults: int = 8
    kinds: tuple[str, ...] = FAULT_KINDS
    #: a second member of every worker's consumer group
    replicas: bool = False
    #: faults are spread over this many seconds from the start of the traffic
    window: float = 240.0
    #: a journey or a payment that has not got through by then is given up
    traffic_deadline: float = 600.0
    quiescence_timeout: float = 240.0


@dataclass(frozen=True)
class Fault:
    at: float
    kind: str
    target: str | None
    #: seconds a paused worker stays stopped, or the database / broker stays down
    duration: float


def fault_schedule(plan: RunPlan, rng: random.Random) -> list[Fault]:
    """The run's faults, at seeded times across the window, one at a time; the kinds in a seeded
    order, each drawn once before any is drawn again (a short run still sees different faults)."""
    times = sorted(rng.uniform(5.0, plan.window) for _ in range(plan.faults))
    order = list(plan.kinds)
    faults = []
    for i, at in enumerate(times):
        if i % len(order) == 0:
            rng.shuffle(order)
        kind = order[i % len(order)]
        target = None
        if kind == "kill_api":
            target = f"{rng.choice(SERVICES)}-api"
        elif kind in ("kill_worker", "pause_worker"):
            target = f"{rng.choice(SERVICES)}-worker"
        duration = {"pause_worker": rng.uniform(3.0, 25.0), "kill_kafka": rng.uniform(1.0, 10.0),
                    "stop_postgres": rng.uniform(1.0, 10.0)}.get(kind, 0.0)
        faults.append(Fault(round(at, 1), kind, target, round(duration, 1)))
    return faults


# -- processes: what the campaign killed it restarts; what died on its own stays dead -------------


class Processes:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.lock = threading.Lock()
        self.pids: dict[str, int] = {}
        self.died: dict[str, str] = {}

    def start_all(self) -> None:
        with self.lock:
            for name in self.stack.procs:
                self.pids[name] = self.stack.start(name)
        self.stack.wait_ready(list(self.stack.procs), timeout=180)

    def kill_and_restart(self, name: str) -> None:
        with self.lock:
            if name in self.died:
                return
            self.stack.kill(name)
            self.pids[name] = self.stack.start(name)

    def signal(self, name: str, sig: int) -> bool:
        with self.lock:
            pid = self.pids.get(name)
            if pid is None or name in self.died:
                return False
            os.kill(pid, sig)
            return True

    def watch(self, stop: threading.Event) -> None:
        """Reap processes that exited without being killed by the campaign: they died."""
        while not stop.wait(0.5):
            self.check()

    def check(self) -> None:
        with self.lock:
            for name, pid in list(self.pids.items()):
                if name in self.died:
                    continue
                try:
                    waited, status = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    waited, status = pid, -1
                if waited == pid:
                    code = os.waitstatus_to_exitcode(status) if status >= 0 else "unknown"
                    self.died[name] = f"exit {code}: {last_words(self.stack.run_dir / f'{name}.log')}"
                    log(f"{name} died on its own ({self.died[name]}); not restarted")

    def ready(self, timeout: float = 120.0) -> None:
        names = [n for n in self.stack.procs if n not in self.died]
        try:
            self.stack.wait_ready(names, timeout=timeout)
        except (RuntimeError, TimeoutError) as exc:
            log(f"not every process is ready: {exc}")

    def stop_all(self) -> None:
        with self.lock:
            for name, pid in self.pids.items():
                if name not in self.died:
                    try:
                        os.kill(pid, signal.SIGCONT)
                    except ProcessLookupError:
                        pass
            self.stack.down()


def last_words(path: Path) -> str:
    """The exception a process died of, from the last lines of its (redacted JSON) log."""
    try:
        lines = path.read_bytes().splitlines()[-20:]
    except OSError:
        return "no log"
    for raw in reversed(lines):
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if line.get("level") in ("ERROR", "CRITICAL"):
            error = str(line.get("error") or "").strip().splitlines()
            return f"{line.get('msg')}{': ' + error[-1] if error else ''}"[:240]
    return "no error logged"


def stack_for(run_dir: Path, env: dict[str, str], port_offset: int, replicas: bool) -> Stack:
    """The four services' APIs and workers (no console); with ``replicas``, a second member of
    each worker's group (``<service>-worker-2``, its own metrics port)."""
    stack = Stack(run_dir, env, port_offset=port_offset)
    stack.procs = {name: proc for name, proc in stack.procs.items() if name != "console"}
    if replicas:
        for service in SERVICES:
            first = stack.procs[f"{service}-worker"]
            port = WORKER_METRICS_PORTS[service] + port_offset + 50
            stack.procs[f"{service}-worker-2"] = Proc(
                f"{service}-worker-2", first.argv, {**first.env, "FORBEAR_METRICS_PORT": str(port)},
                f"http://127.0.0.1:{port}/metrics")
    return stack


# -- faults ---------------------------------------------------------------------------------------


class Injector:
    def __init__(self, faults: list[Fault], procs: Processes, pair: PrivateInfra, rng: random.Random) -> None:
        self.faults = faults
        self.procs = procs
        self.pair = pair
        self.rng = rng
        self.done: Counter[str] = Counter()
        self.finished = threading.Event()
        self.restarts: list[str] = []

    def run(self, started: float, stop: threading.Event) -> None:
        try:
            for fault in self.faults:
                if stop.wait(max(0.0, started + fault.at - time.monotonic())):
                    return
                self.inject(fault)
        finally:
            self.finished.set()

    def restore(self, what: str, start: Callable[[], None], budget: float = 900.0) -> None:
        """Start the broker or the database again until it answers (a loaded machine can take
        minutes): the campaign's own faults must end, whatever the services do."""
        began = time.monotonic()
        while True:
            try:
                start()
                break
            except Exception as exc:
                if time.monotonic() - began > budget:
                    raise
                log(f"{what} not back yet ({type(exc).__name__}); starting it again")
        self.restarts.append(f"{what} back after {time.monotonic() - began:.0f}s")

    def inject(self, fault: Fault) -> None:
        log(f"fault {fault.kind} {fault.target or ''} {fault.duration or ''}".rstrip())
        if fault.kind in ("kill_api", "kill_worker"):
            assert fault.target is not None
            targets = [fault.target]
            if fault.kind == "kill_worker" and f"{fault.target}-2" in self.procs.stack.procs and self.rng.random() < 0.5:
                targets.append(f"{fault.target}-2")
            for target in targets:
                self.procs.kill_and_restart(target)
        elif fault.kind == "pause_worker":
            assert fault.target is not None
            if self.procs.signal(fault.target, signal.SIGSTOP):
                time.sleep(fault.duration)
                self.procs.signal(fault.target, signal.SIGCONT)
        elif fault.kind == "kill_kafka":
            self.pair.kill_kafka()
            time.sleep(fault.duration)
            self.restore("kafka", self.pair.start_kafka)
        elif fault.kind == "stop_postgres":
            self.pair.stop_postgres(immediate=True)
            time.sleep(fault.duration)
            self.restore("postgres", self.pair.start_postgres)
        self.done[fault.kind] += 1


# -- clients that behave as real clients do ------------------------------------------------------


class GaveUp(Exception):
    pass


@dataclass
class Retries:
    connection: int = 0
    server: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, kind: str) -> None:
        with self.lock:
            setattr(self, kind, getattr(self, kind) + 1)


class Api:
    """HTTP calls to the run's services, retried on connection errors and 5xx until the deadline."""

    def __init__(self, port_offset: int, deadline: float, retries: Retries) -> None:
        self.port_offset = port_offset
        self.deadline = deadline
        self.retries = retries

    def call(self, service: str, method: str, path: str, *, who: tuple[str, str, str | None], ok: tuple[int, ...],
             conflict_settled: Callable[[], bool] | None = None, **kwargs: Any) -> httpx.Response:
        """``ok``: the statuses that end the call; a 409 on a retried call ends it too when
        ``conflict_settled`` says the first attempt did the work (a lost answer)."""
        role, subject, borrower_id = who
        url = f"http://127.0.0.1:{API_PORTS[service] + self.port_offset}{path}"
        extra = kwargs.pop("headers", {})
        attempt = 0
        while True:
            attempt += 1
            headers = {**extra, "Authorization": f"Bearer {TEST_ISSUER.mint(subject, role, borrower_id)}"}
            try:
                response = httpx.request(method, url, timeout=30, headers=headers, **kwargs)
            except httpx.TransportError:
                self.retries.count("connection")
            else:
                if response.status_code in ok:
                    return response
                if response.status_code == 409 and attempt > 1 and conflict_settled is not None and conflict_settled():
                    return response
                if response.status_code < 500:
                    raise GaveUp(f"{method} {service}{path}: {response.status_code} {response.text[:300]}")
                self.retries.count("server")
            if time.monotonic() > self.deadline:
                raise GaveUp(f"{method} {service}{path}: no answer before the run's deadline")
            time.sleep(min(0.25 * 2 ** min(attempt, 4), 3.0))

    def get(self, service: str, path: str, who: tuple[str, str, str | None]) -> httpx.Response:
        return self.call(service, "GET", path, who=who, ok=(200, 404))

    def until(self, what: str, check: Callable[[], Any]) -> Any:
        """Poll ``check`` until it returns something truthy (a real client polling a queue)."""
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > self.deadline:
                raise GaveUp(f"{what}: not seen before the run's deadline")
            time.sleep(0.5)


# -- journeys ------------------------------------------------------------------------------------


AGENT = ("agent", "agent-chaos", None)
SUPERVISOR = ("supervisor", "supervisor-chaos", None)


@dataclass
class Journey:
    borrower_id: str
    #: the steps the services acknowledged, in order
    acknowledged: list[str] = field(default_factory=list)
    case_id: str | None = None
    agreement_id: str | None = None
    loan_id: str | None = None
    instalments: list[dict[str, Any]] = field(default_factory=list)
    failure: str | None = None
    #: the reference of the first instalment's payment, once the broker acknowledged it
    first_payment: str | None = None

    @property
    def active(self) -> bool:
        return "monitored" in self.acknowledged


def run_journey(api: Api, journey: Journey, today: dt.date) -> None:
    """First contact to an agreement under monitoring, through the public APIs only."""
    borrower = ("borrower", f"portal-{journey.borrower_id}", journey.borrower_id)
    keys = {step: f"{journey.borrower_id}-{step}" for step in ("open", "doc1", "doc2", "accept", "code", "sign-b", "sign-l")}
    try:
        loan = loan_snapshot(journey.borrower_id, today)
        journey.loan_id = loan["loan_id"]
        body = {
            "borrower": {"borrower_id": journey.borrower_id, "name": "李四", "national_id": "310101198805051234",
                         "phone": "13900001111"},
            "loans": [loan], "hardship_category": "unemployment", "story": "laid off when the plant closed",
            "channel": "phone",
            "history": {"no_contact_delinquencies_24m": 0, "broken_agreements_12m": 0, "declaration_untrue": False},
        }
        case = api.call("intake", "POST", "/cases", who=AGENT, ok=(201,), json=body,
                        headers={"Idempotency-Key": keys["open"]}).json()
        case_id = journey.case_id = case["case_id"]
        journey.acknowledged.append("opened")

        def case_view() -> dict[str, Any]:
            return dict(api.get("intake", f"/cases/{case_id}", AGENT).json())

        api.call("intake", "PUT", f"/cases/{case_id}/statement", who=borrower, ok=(200,), json=UNEMPLOYED_STATEMENT,
                 conflict_settled=lambda: True)
        docs = []
        for key, (kind, content, name, media) in zip(("doc1", "doc2"), (
                ("termination_letter", tiny_pdf(f"termination {case_id}"), "letter.pdf", "application/pdf"),
                ("unemployment_registration", tiny_png(abs(hash(case_id)) % 60000), "reg.png", "image/png")),
                strict=True):
            docs.append(api.call("intake", "POST", f"/cases/{case_id}/evidence", who=borrower, ok=(201,),
                                 data={"document_type": kind}, files={"file": (name, content, media)},
                                 headers={"Idempotency-Key": keys[key]}).json())
        for doc in docs:
            def reviewed(doc_id: str = doc["document_id"]) -> bool:
                return any(x["document_id"] == doc_id and x["status"] == "accepted"
                           for x in case_view()["documents"])

            api.call("intake", "POST", f"/cases/{case_id}/evidence/{doc['document_id']}/review", who=AGENT, ok=(200,),
                     json={"outcome": "accept"}, conflict_settled=reviewed)
        api.call("intake", "POST", f"/cases/{case_id}/submit", who=borrower, ok=(200,),
                 conflict_settled=lambda: case_view()["status"] not in ("ready_to_submit", "awaiting_evidence"))
        journey.acknowledged.append("submitted")

        def decided() -> list[dict[str, Any]] | None:
            r = api.get("evaluation", f"/cases/{case_id}/decisions", AGENT)
            return r.json()["decisions"] if r.status_code == 200 and r.json()["decisions"] else None

        [decision] = api.until("decision", decided)
        if decision["outcome"] != "approve":
            raise GaveUp(f"decision {decision['outcome']}")

        def offered() -> list[dict[str, Any]] | None:
            r = api.get("agreement", f"/cases/{case_id}/offers", AGENT)
            found = [o for o in r.json() if o["status"] == "open" and o["option"] == "term_extension"] \
                if r.status_code == 200 else []
            return sorted(found, key=lambda o: o["rank"]) or None

        offer = api.until("offers", offered)[0]
        journey.instalments = list(offer["schedule"]["instalments"])
        agreement = api.call("agreement", "POST", f"/offers/{offer['offer_id']}/accept", who=borrower, ok=(201,),
                             json={"payment_method": "account_debit"},
                             headers={"Idempotency-Key": keys["accept"]}).json()
        journey.agreement_id = agreement["agreement_id"]
        journey.acknowledged.append("accepted")
        # the borrower's one-time code (under its key: a retried request replays, no second code is sent)
        api.call("agreement", "POST", f"/agreements/{journey.agreement_id}/signing-code", who=borrower, ok=(201,),
                 json={"channel": "sms"}, headers={"Idempotency-Key": keys["code"]})
        code = signing_code(journey.agreement_id)
        for party, who, key, extra in (("borrower", borrower, "sign-b", {"one_time_code": code}),
                                       ("lender", SUPERVISOR, "sign-l", {})):
            api.call("agreement", "POST", f"/agreements/{journey.agreement_id}/signatures", who=who, ok=(201,),
                     json={"party": party, "document_sha256": agreement["document_sha256"], **extra},
                     headers={"Idempotency-Key": keys[key]})
            journey.acknowledged.append(f"signed_{party}")
        api.until("monitored", lambda: api.get("monitoring", f"/agreements/{journey.agreement_id}",
                                                AGENT).status_code == 200)
        journey.acknowledged.append("monitored")
    except GaveUp as exc:
        journey.failure = str(exc)
    except Exception as exc:  # a journey that breaks is reported, not hidden
        journey.failure = f"{type(exc).__name__}: {exc}"


# -- core banking ---------------------------------------------------------------------------------


@dataclass
class Payments:
    """What core banking sent: reference -> (loan, amount); and how many records in all."""

    sent: dict[str, tuple[str, Decimal]] = field(default_factory=dict)
    records: int = 0
    resent: int = 0
    failed: list[str] = field(default_factory=list)


class CoreBanking:
    def __init__(self, infra: TestInfra, deadline: float) -> None:
        self.infra = infra
        self.deadline = deadline
        self.payments = Payments()
        self._producer: KafkaProducer | None = None
        self.lock = threading.Lock()

    def _send(self, key: bytes, value: bytes) -> bool:
        """Send until the broker acknowledges (a new producer after each failure), or the deadline."""
        while time.monotonic() < self.deadline:
            try:
                if self._producer is None:
                    self._producer = KafkaProducer(bootstrap_servers=self.infra.bootstrap, acks="all",
                                                   request_timeout_ms=10000, max_block_ms=10000)
                self._producer.send(self.infra.topic("corebanking.payments"), key=key, value=value).get(timeout=15)
                self.payments.records += 1
                return True
            except Exception:
                if self._producer is not None:
                    try:
                        self._producer.close(timeout=1)
                    except Exception:
                        pass
                self._producer = None
                time.sleep(1.0)
        return False

    def pay(self, loan_id: str, amount: Decimal, on: dt.date, rng: random.Random, resend: float) -> str | None:
        """One payment; with probability ``resend``, sent again: the same bytes, or the same
        reference in a new event (core banking's retry after a lost acknowledgement). The
        reference, once the broker acknowledged it."""
        reference = f"CB-{uuid.uuid4().hex[:12]}"
        with self.lock:
            value = self._event(reference, loan_id, amount, on)
            if not self._send(loan_id.encode(), value):
                self.payments.failed.append(reference)
                return None
            self.payments.sent[reference] = (loan_id, amount)
            if rng.random() < resend:
                again = value if rng.random() < 0.5 else self._event(reference, loan_id, amount, on)
                if self._send(loan_id.encode(), again):
                    self.payments.resent += 1
        return reference

    @staticmethod
    def _event(reference: str, loan_id: str, amount: Decimal, on: dt.date) -> bytes:
        return encode(new_event(type="payment.received",
                                payload=PaymentReceived(reference=reference, loan_id=loan_id, amount=amount,
                                                        received_on=on),
                                case_id=loan_id, business_date=on, producer="corebanking",
                                occurred_at=dt.datetime.combine(on, dt.time(10, 0), tzinfo=dt.UTC)))

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=5)


# -- one run -------------------------------------------------------------------------------------


@dataclass
class RunResult:
    seed: int
    replicas: bool
    faults: Counter[str]
    payments: int
    resent: int
    journeys: int
    journeys_active: int
    lost: list[str]
    doubled: list[str]
    died: dict[str, str]
    quiescent: bool
    seconds: float
    notes: list[str] = field(default_factory=list)
    retries: tuple[int, int] = (0, 0)

    @property
    def clean(self) -> bool:
        return not self.lost and not self.doubled and not self.died and self.quiescent

    def line(self) -> str:
        faults = " ".join(f"{k}={self.faults.get(k, 0)}" for k in FAULT_KINDS)
        died = ",".join(f"{k}({v})" for k, v in sorted(self.died.items())) or "none"
        return (f"seed={self.seed} replicas={'2' if self.replicas else '1'} faults[{faults}] "
                f"payments={self.payments} (+{self.resent} re-sent) journeys={self.journeys_active}/{self.journeys} "
                f"lost={len(self.lost)} doubled={len(self.doubled)} died={died} "
                f"quiescent={'yes' if self.quiescent else 'no'} retries(conn/5xx)={self.retries[0]}/{self.retries[1]} "
                f"{self.seconds:.0f}s")


def run_infra(pair: PrivateInfra) -> TestInfra:
    """A fresh database, topic prefix and evidence bucket of one run, on the private pair."""
    wait_for_broker(pair.bootstrap, timeout=120)
    return start_test_infra(pg_port=pair.pg_port, bootstrap=pair.bootstrap)


def run_once(pair: PrivateInfra, plan: RunPlan, port_offset: int, work_dir: Path) -> RunResult:
    started = time.monotonic()
    rng = random.Random(plan.seed)
    faults = fault_schedule(plan, rng)
    run_id = f"{plan.seed:x}{uuid.uuid4().hex[:6]}"
    infra = run_infra(pair)
    stack = stack_for(work_dir / f"run-{run_id}", infra.service_env(), port_offset, plan.replicas)
    procs = Processes(stack)
    log(f"run {run_id}: seed {plan.seed}, {len(faults)} faults "
        f"({', '.join(f'{f.kind}@{f.at:.0f}s' for f in faults)}), replicas {plan.replicas}")
    stop = threading.Event()
    notes: list[str] = []
    try:
        procs.start_all()
        watcher = threading.Thread(target=procs.watch, args=(stop,), daemon=True)
        watcher.start()
        result = traffic_and_faults(pair, plan, rng, faults, infra, procs, port_offset, stop, notes)
    finally:
        stop.set()
        try:
            procs.stop_all()
        finally:
            _drop(pair, infra)
    result.seconds = time.monotonic() - started
    return result


def _drop(pair: PrivateInfra, infra: TestInfra) -> None:
    try:
        stop_test_infra(infra)
    except Exception as exc:
        log(f"the run's topics {infra.topic_prefix}*, database {infra.database} or bucket not all removed: {exc}")


def traffic_and_faults(pair: PrivateInfra, plan: RunPlan, rng: random.Random, faults: list[Fault], infra: TestInfra,
                       procs: Processes, port_offset: int, stop: threading.Event, notes: list[str]) -> RunResult:
    t0 = time.monotonic()
    deadline = t0 + plan.traffic_deadline
    retries = Retries()
    api = Api(port_offset, deadline, retries)
    bank = CoreBanking(infra, deadline)
    injector = Injector(faults, procs, pair, random.Random(plan.seed + 1))
    faulting = threading.Thread(target=injector.run, args=(t0, stop), daemon=True)
    faulting.start()
    traffic_rng = random.Random(plan.seed + 2)

    today = d(api.get("monitoring", "/business-date", SUPERVISOR).json()["business_date"])
    journeys = [Journey(f"BRW-{infra.run_id}-{i:03d}") for i in range(plan.journeys)]
    threads = []
    for i, journey in enumerate(journeys):
        thread = threading.Thread(target=run_journey, args=(api, journey, today), daemon=True)
        threads.append(thread)
        thread.start()
        time.sleep(0.3 if i % 3 else 0.0)

    # core banking: payments for loans no agreement covers (parked, each recorded once), spread over the window
    gap = plan.window / max(plan.payments, 1)
    for i in range(plan.payments):
        bank.pay(f"L-chaos-{infra.run_id}-{i % 97:02d}", Decimal(traffic_rng.randint(100, 99999)) / 100, today,
                 traffic_rng, resend=0.2)
        time.sleep(gap * traffic_rng.uniform(0.5, 1.5))
    for thread in threads:
        thread.join(max(1.0, deadline - time.monotonic()))

    active = [j for j in journeys if j.active]
    for j in journeys:
        if j.failure:
            notes.append(f"journey {j.borrower_id} stopped after {j.acknowledged[-1:] or ['nothing']}: {j.failure}")
    # each active agreement's first instalment paid in full today, by core banking; close of
    # business waits until monitoring has it (as the lender's COB waits for the day's payments)
    first_payments = []
    for j in active:
        assert j.loan_id is not None
        reference = bank.pay(j.loan_id, Decimal(j.instalments[0]["total"]), today, traffic_rng, resend=0.5)
        j.first_payment = reference
        if reference is not None:
            first_payments.append((j, reference))
        else:  # never acknowledged (the broker stayed away past the deadline): nothing was promised
            notes.append(f"agreement {j.agreement_id}: first instalment's payment not acknowledged by the broker")
    for j, reference in first_payments:
        def recorded(j: Journey = j, reference: str = reference) -> bool:
            view = api.get("monitoring", f"/agreements/{j.agreement_id}", AGENT).json()
            return any(p["reference"] == reference for p in view.get("payments", []))

        try:
            api.until("first instalment's payment recorded", recorded)
        except GaveUp as exc:
            notes.append(f"agreement {j.agreement_id}: {exc}")

    # close of business, a few calls, up to the day after the second instalment's grace period:
    # the second instalment of every active agreement is missed, the first was paid
    missed_expected: set[tuple[str, int]] = set()
    if active:
        target = max(missed_on(d(j.instalments[1]["due_date"])) for j in active)
        missed_expected = {(str(j.agreement_id), 2) for j in active}
        # an instalment whose payment core banking could not hand over is missed as well
        missed_expected |= {(str(j.agreement_id), 1) for j in active if j.first_payment is None}
        steps = sorted({today + (target - today) * k // 3 for k in (1, 2)} | {target})
        for step in steps:
            def reached(step: dt.date = step) -> bool:
                return d(api.get("monitoring", "/business-date", SUPERVISOR).json()["business_date"]) >= step

            try:
                api.call("monitoring", "POST", "/business-date/advance", who=("system", "cob-chaos", None), ok=(200,),
                         json={"to": step.isoformat()}, conflict_settled=reached)
            except GaveUp as exc:
                notes.append(f"close of business to {step}: {exc}")
                break
    bank.close()

    # quiescence: faults over, every process the campaign killed is back, the books settle
    faulting.join()
    procs.ready()
    procs.check()
    # a worker that died leaves its group behind for good: no point waiting the whole timeout
    notes.extend(injector.restarts)
    quiescent, why = wait_quiescent(infra, min(plan.quiescence_timeout, 60.0) if procs.died else plan.quiescence_timeout)
    if not quiescent:
        notes.append(f"not quiescent: {why}")
    lost, doubled = check_books(infra, journeys, bank.payments, missed_expected, notes)
    procs.check()
    return RunResult(seed=plan.seed, replicas=plan.replicas, faults=injector.done, payments=len(bank.payments.sent),
                     resent=bank.payments.resent, journeys=len(journeys), journeys_active=len(active), lost=lost,
                     doubled=doubled, died=dict(procs.died), quiescent=quiescent, seconds=0.0, notes=notes,
                     retries=(retries.connection, retries.server))


# -- quiescence and the books ---------------------------------------------------------------------


def connect(infra: TestInfra) -> psycopg.Connection[Any]:
    return psycopg.connect(infra.database_url, autocommit=True, row_factory=dict_row, connect_timeout=10)


def backlog(infra: TestInfra) -> tuple[dict[str, int], dict[str, int]]:
    """Unpublished outbox rows per service; records behind the end per consumer group."""
    pending: dict[str, int] = {}
    with connect(infra) as conn:
        for service in SERVICES:
            row = conn.execute(f"select count(*) as n from {service}.outbox where published_at is null").fetchone()
            pending[service] = int(row["n"]) if row else 0
    behind: dict[str, int] = {}
    client = admin(infra.bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=infra.bootstrap, request_timeout_ms=15000)
    try:
        for service, topics in CONSUMED.items():
            group = infra.group_prefix + service
            committed = client.list_group_offsets({group: None}).get(group, {})
            partitions = [TopicPartition(infra.topic(t), p) for t in topics
                          for p in sorted(consumer.partitions_for_topic(infra.topic(t)) or [])]
            ends = consumer.end_offsets(partitions)
            behind[service] = sum(max(0, ends[tp] - (max(committed[tp].offset, 0) if tp in committed else 0))
                                  for tp in partitions)
    finally:
        consumer.close()
        client.close()
    return pending, behind


def wait_quiescent(infra: TestInfra, timeout: float) -> tuple[bool, str]:
    deadline = time.monotonic() + timeout
    last = "never measured"
    while time.monotonic() < deadline:
        try:
            pending, behind = backlog(infra)
            if not any(pending.values()) and not any(behind.values()):
                return True, ""
            last = f"outbox pending {pending}, groups behind {behind}"
        except Exception as exc:
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(2.0)
    return False, last


def events_by(infra: TestInfra, topic: str) -> Iterator[tuple[dict[str, Any], int]]:
    """Every event on a topic, each with how many times its event id was published."""
    seen: dict[str, dict[str, Any]] = {}
    copies: Counter[str] = Counter()
    for message in read_topic(infra, topic, timeout=60):
        try:
            body = orjson.loads(message.value)
        except orjson.JSONDecodeError:
            continue
        if isinstance(body, dict) and "event_id" in body:
            seen.setdefault(body["event_id"], body)
            copies[body["event_id"]] += 1
    for event_id, body in seen.items():
        yield body, copies[event_id]


def check_books(infra: TestInfra, journeys: list[Journey], payments: Payments, missed_expected: set[tuple[str, int]],
                notes: list[str]) -> tuple[list[str], list[str]]:
    lost: list[str] = []
    doubled: list[str] = []
    redelivered = 0

    # payments: every reference sent is recorded once; every applied one is announced once
    with connect(infra) as conn:
        rows = {r["reference"]: r for r in conn.execute(
            "select reference, loan_id, amount, status from monitoring.payments").fetchall()}
    for reference, (loan_id, amount) in payments.sent.items():
        row = rows.get(reference)
        if row is None:
            lost.append(f"payment {reference} not recorded by the end of the run")
        elif row["amount"] != amount or row["loan_id"] != loan_id:
            lost.append(f"payment {reference} recorded as {row['amount']} on {row['loan_id']}")
    applied: dict[str, set[str]] = defaultdict(set)
    per_type: dict[tuple[str, str], set[str]] = defaultdict(set)
    missed_events: dict[tuple[str, int], set[str]] = defaultdict(set)
    for topic in ("intake.events", "evaluation.events", "agreement.events", "monitoring.events"):
        for body, copies in events_by(infra, topic):
            redelivered += copies - 1
            payload = body.get("payload") or {}
            if body["type"] == "payment.applied":
                applied[payload["reference"]].add(body["event_id"])
            elif body["type"] == "instalment.missed":
                missed_events[(payload["agreement_id"], int(payload["instalment"]))].add(body["event_id"])
            else:
                per_type[(body["case_id"], body["type"])].add(body["event_id"])
    for reference, ids in applied.items():
        if len(ids) > 1:
            doubled.append(f"payment {reference} applied {len(ids)} times")
    for reference, row in rows.items():
        if row["status"] == "applied" and reference not in applied:
            lost.append(f"payment {reference} applied but never announced")

    # journeys: what was acknowledged happened, once
    expected_events = {"opened": {"case.opened": 1}, "submitted": {"case.submitted": 1, "case.decided": 1},
                       "accepted": {"offer.accepted": 1}, "signed_lender": {"agreement.signed": 2,
                                                                           "agreement.activated": 1}}
    with connect(infra) as conn:
        stranded = {(r["key"], r["event_type"]): service for service in SERVICES for r in conn.execute(
            f"select key, event_type from {service}.outbox where published_at is null").fetchall()}
        for j in journeys:
            cases = conn.execute("select case_id, status from intake.cases where borrower_id = %s",
                                 (j.borrower_id,)).fetchall()
            if len(cases) > 1:
                doubled.append(f"journey {j.borrower_id}: {len(cases)} cases opened")
            if j.active and [c["status"] for c in cases] != ["agreement_active"]:
                lost.append(f"journey {j.borrower_id}: intake has the case as {[c['status'] for c in cases]}, "
                            "not agreement_active (agreement.activated not applied)")
            for step, types in expected_events.items():
                if step not in j.acknowledged:
                    continue
                for type_, count in types.items():
                    ids = per_type.get((str(j.case_id), type_), set())
                    if len(ids) < count:
                        where = stranded.get((str(j.case_id), type_))
                        lost.append(f"journey {j.borrower_id}: {type_} {len(ids)} of {count}"
                                    + (f" (in {where}'s outbox, unpublished)" if where else ""))
                    elif len(ids) > count:
                        doubled.append(f"journey {j.borrower_id}: {type_} {len(ids)} times")
            if j.active:
                paid = conn.execute(
                    "select fee_paid + penalty_paid + interest_paid + principal_paid as paid, total "
                    "from monitoring.instalments where agreement_id = %s and number = 1", (j.agreement_id,)).fetchone()
                first = Decimal(j.instalments[0]["total"]) if j.first_payment is not None else Decimal("0.00")
                if paid is None or paid["paid"] < first:
                    lost.append(f"agreement {j.agreement_id}: first instalment paid {paid and paid['paid']} of {first}")
                elif paid["paid"] > first:
                    doubled.append(f"agreement {j.agreement_id}: first instalment paid {paid['paid']} of {first}")
        missed = Counter((r["agreement_id"], r["number"]) for r in conn.execute(
            "select agreement_id, number from monitoring.missed_instalments").fetchall())
    for key in missed_expected:
        if missed[key] == 0:
            lost.append(f"missed instalment {key} not detected")
        ids = missed_events.get(key, set())
        if not ids:
            lost.append(f"missed instalment {key} never announced")
        elif len(ids) > 1:
            doubled.append(f"missed instalment {key} announced {len(ids)} times")
    unexpected = {k for k in missed if k[0] in {a for a, _ in missed_expected}} - missed_expected
    for key in sorted(unexpected):
        doubled.append(f"instalment {key} detected as missed besides the one expected")
    notes.append(f"{redelivered} event(s) published more than once with the same event id (at-least-once relay)")
    return lost, doubled


# -- the campaign --------------------------------------------------------------------------------


def chaos_port_offset() -> int:
    """Beside the test suite's services (FORBEAR_TEST_PORT_OFFSET), never on them."""
    return int(os.environ.get("FORBEAR_TEST_PORT_OFFSET", "10000")) + 2500


def private_pair() -> PrivateInfra:
    offset = int(os.environ.get("FORBEAR_TEST_PORT_OFFSET", "10000"))
    var = Path(os.environ.get("FORBEAR_CHAOS_VAR_DIR", f"/var/tmp/forbear-chaos-{offset}"))
    return PrivateInfra(var_dir=var, port_base=20432 + offset)


def runs_dir() -> Path:
    """The runs' process logs, kept after the private pair is wiped."""
    offset = int(os.environ.get("FORBEAR_TEST_PORT_OFFSET", "10000"))
    return Path(os.environ.get("FORBEAR_CHAOS_RUNS_DIR", f"/var/tmp/forbear-chaos-runs-{offset}"))


def pair_up(pair: PrivateInfra, budget: float = 600.0) -> None:
    """Start the pair; on a loaded machine a cold broker can take longer than infra.sh waits."""
    began = time.monotonic()
    while True:
        try:
            pair.up()
            return
        except Exception as exc:
            if time.monotonic() - began > budget:
                raise
            log(f"private pair not up yet ({type(exc).__name__}); waiting again")


def campaign(plans: list[RunPlan], keep_pair: bool = False, pair: PrivateInfra | None = None) -> list[RunResult]:
    """Run ``plans`` one after another on a private pair: ``pair`` if given (already up, left up:
    the test suite's own), else one started here and stopped after (unless ``keep_pair``)."""
    given = pair is not None
    pair = pair or private_pair()
    keep_pair = keep_pair or given
    work = runs_dir()
    log(f"private pair: postgres :{pair.pg_port}, kafka :{pair.kafka_port} in {pair.var_dir}; run logs in {work}")
    results: list[RunResult] = []
    try:
        if not given:
            began = time.monotonic()
            pair_up(pair)
            log(f"private pair up in {time.monotonic() - began:.0f}s")
        for i, plan in enumerate(plans):
            if i:  # the previous run may have left either down (a fault cut short)
                pair.resume_kafka()
                pair.start_kafka()
                pair.start_postgres()
            result = run_once(pair, plan, chaos_port_offset(), work)
            results.append(result)
            print(result.line(), flush=True)
            for label, items in (("lost", result.lost), ("doubled", result.doubled)):
                for item in items[:15]:
                    print(f"    {label}: {item}")
                if len(items) > 15:
                    print(f"    {label}: ... and {len(items) - 15} more")
            for note in result.notes:
                print(f"    note: {note}")
    finally:
        if not keep_pair:
            pair.down()
    total = Counter[str]()
    for r in results:
        total.update(r.faults)
    print(f"total: {len(results)} run(s), faults[{' '.join(f'{k}={total.get(k, 0)}' for k in FAULT_KINDS)}] "
          f"payments={sum(r.payments for r in results)} journeys={sum(r.journeys_active for r in results)}/"
          f"{sum(r.journeys for r in results)} lost={sum(len(r.lost) for r in results)} "
          f"doubled={sum(len(r.doubled) for r in results)} died={sum(len(r.died) for r in results)} "
          f"clean runs={sum(r.clean for r in results)}/{len(results)} "
          f"{sum(r.seconds for r in results):.0f}s", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos.campaign", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=None, help="seed of the first run (the next ones: +1 each)")
    parser.add_argument("--journeys", type=int, default=6)
    parser.add_argument("--payments", type=int, default=300)
    parser.add_argument("--faults", type=int, default=8)
    parser.add_argument("--kinds", default=",".join(FAULT_KINDS), help="fault kinds to draw from")
    parser.add_argument("--window", type=float, default=240.0, help="seconds over which faults are spread")
    parser.add_argument("--deadline", type=float, default=600.0,
                        help="seconds after which a journey or payment not through is given up")
    parser.add_argument("--replicas", choices=("never", "always", "some"), default="some",
                        help="a second member per worker: never, always, or in the runs the seed picks")
    args = parser.parse_args(argv)
    first = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    kinds = tuple(k for k in args.kinds.split(",") if k)
    unknown = set(kinds) - set(FAULT_KINDS)
    if unknown:
        parser.error(f"unknown fault kinds {sorted(unknown)} (of {', '.join(FAULT_KINDS)})")
    plans = []
    for i in range(args.runs):
        seed = first + i
        replicas = {"never": False, "always": True}.get(args.replicas, random.Random(seed * 7919).random() < 0.5)
        plans.append(RunPlan(seed=seed, journeys=args.journeys, payments=args.payments, faults=args.faults,
                             kinds=kinds, replicas=replicas, window=args.window, traffic_deadline=args.deadline))
    results = campaign(plans)
    return 0 if all(r.clean for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
