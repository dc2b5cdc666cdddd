"""``make bench`` section ``readmodel``: a book of ``BENCH_RM_CASES`` cases (100,000) of which
``BENCH_RM_AGREEMENTS`` (20,000) reach an active agreement is published to the run's topics,
then projected by the console worker's consumer (in this process, one member), rebuilt from
offset 0, and read through HTTP: ``GET /kpis`` (the KPI snapshot the worker keeps, and the lag) and
one page (100 rows) of each of five queues.

What is timed: the console app (``create_app``, its real middleware, request guard, session
check and JSON encoding) served by uvicorn on loopback, called by an HTTP client with an
operator's sealed session cookie as the console sets it after a login (no identity-provider
round trip: the cookie is valid for hours, so no token refresh happens); from the request sent
to the JSON body received and parsed, on the loaded model. The SQL and formulas alone
(``kpis.compute`` in one transaction) are printed beside it. Figures only; nothing is asserted.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import statistics
import threading
import time
import uuid
from decimal import Decimal

import httpx
from cryptography.fernet import Fernet
from forbear_shared.db import transaction
from forbear_shared.events import encode, new_event
from forbear_shared.events.schemas import agreement, evaluation, intake, monitoring
from forbear_shared.events.schemas.common import InstalmentDoc, LoanSnapshot, ScheduleDoc
from kafka import KafkaProducer

from tests.support import infra as test_infra

CASES = int(os.environ.get("BENCH_RM_CASES", "100000"))
AGREEMENTS = int(os.environ.get("BENCH_RM_AGREEMENTS", "20000"))
START = dt.date(2026, 1, 5)
T0 = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)
HARDSHIPS = ("illness", "unemployment", "income_reduction", "business_closure", "family_crisis")
CHANNELS = ("phone", "portal", "branch", "email")


def line(label: str, value: str) -> None:
    print(f"  {label:<58} {value}", flush=True)


def _schedule(start: dt.date, months: int = 12) -> ScheduleDoc:
    m = Decimal("500.00")
    rows = [InstalmentDoc(number=n, due_date=dt.date(start.year + (start.month + n - 1) // 12,
                                                     (start.month + n - 1) % 12 + 1, 5),
                          kind="amortising", opening_balance=m * (months - n + 1), principal=m, interest=Decimal("0"),
                          fee=Decimal("0"), total=m, closing_balance=m * (months - n)) for n in range(1, months + 1)]
    return ScheduleDoc(method="equal_principal", principal=m * months, annual_rate=Decimal("0"), day_count="30/360",
                       start_date=start, instalments=rows)


def book() -> list[tuple[str, bytes, bytes]]:
    """(topic, key, value) of the whole book, each case's events in order on its topics."""
    out: list[tuple[str, bytes, bytes]] = []
    tick = iter(range(10**9))

    def add(topic: str, type_: str, payload: object, case_id: str, on: dt.date) -> None:
        at = T0 + dt.timedelta(milliseconds=next(tick))
        envelope = new_event(type=type_, payload=payload, case_id=case_id, business_date=on,  # type: ignore[arg-type]
                             producer="bench", occurred_at=at)
        out.append((topic, case_id.encode(), encode(envelope)))

    loan = LoanSnapshot(loan_id="L", borrower_id="B", original_principal=Decimal("6000.00"),
                        outstanding_principal=Decimal("6000.00"), annual_rate=Decimal("0.05"), original_term_months=12,
                        remaining_term_months=12, contractual_instalment=Decimal("550.00"), as_of=START)
    schedule = _schedule(dt.date(2026, 1, 20))
    for n in range(CASES):
        case_id, opened = f"C-B{n:07d}", START + dt.timedelta(days=n % 60)
        add("intake.events", "case.opened", intake.CaseOpened(
            borrower_id=f"B{n}", hardship_category=HARDSHIPS[n % 5], channel=CHANNELS[n % 4],  # type: ignore[arg-type]
            dpd_at_first_contact=n % 90, opened_on=opened, loan_ids=["L"]), case_id, opened)
        if n % 10 == 9:
            continue  # still gathering evidence
        decided = opened + dt.timedelta(days=n % 14)
        add("intake.events", "case.submitted", intake.CaseSubmitted(
            borrower_id=f"B{n}", submission=1, hardship_category=HARDSHIPS[n % 5], channel=CHANNELS[n % 4],  # type: ignore[arg-type]
            dpd_at_first_contact=n % 90, opened_on=opened, loans=[loan], statement=None, evidence=[]), case_id, opened)
        has_agreement = n < AGREEMENTS
        outcome = "approve" if has_agreement or n % 3 == 0 else ("needs_supervisor" if n % 3 == 1 else "decline")
        add("evaluation.events", "case.decided", evaluation.CaseDecided(
            decision_id=f"D{n}", borrower_id=f"B{n}", outcome=outcome, reasons=[], policy_version="p",  # type: ignore[arg-type]
            decided_on=decided), case_id, decided)
        if outcome != "approve":
            continue
        add("agreement.events", "offer.made", agreement.OfferMade(
            offer_id=f"O{n}", decision_id=f"D{n}", borrower_id=f"B{n}", rank=1, option="term_extension",
            new_instalment=Decimal("500.00"), term_months=12, expires_on=decided + dt.timedelta(days=14)),
            case_id, decided)
        if not has_agreement:
            continue
        a = f"A{n}"
        add("agreement.events", "offer.accepted", agreement.OfferAccepted(
            offer_id=f"O{n}", agreement_id=a, borrower_id=f"B{n}", accepted_on=decided), case_id, decided)
        for party in ("borrower", "lender"):
            add("agreement.events", "agreement.signed", agreement.AgreementSigned(
                agreement_id=a, party=party, signed_by="bench", document_sha256="ab" * 32,  # type: ignore[arg-type]
                signed_on=decided), case_id, decided)
        add("agreement.events", "agreement.activated", agreement.AgreementActivated(
            agreement_id=a, borrower_id=f"B{n}", loan_ids=["L"], option="term_extension", schedule=schedule,
            document_sha256="ab" * 32, activated_on=dt.date(2026, 1, 20), policy_version="p"), case_id, decided)
        for k in range(1, 4 if n % 4 else 2):  # a quarter pay once, then miss
            due = schedule.instalments[k - 1].due_date
            add("monitoring.events", "payment.applied", monitoring.PaymentApplied(
                agreement_id=a, reference=f"P{n}-{k}", amount=Decimal("500.00"), source="corebanking",
                received_on=due, allocation=[monitoring.AllocationLine(instalment=k, component="principal",
                                                                      amount=Decimal("500.00"))]), case_id, due)
        if n % 4 == 0:
            add("monitoring.events", "instalment.missed", monitoring.InstalmentMissed(
                agreement_id=a, instalment=2, due_date=dt.date(2026, 3, 5), amount_outstanding=Decimal("500.00"),
                detected_on=dt.date(2026, 3, 8)), case_id, dt.date(2026, 3, 8))
            add("monitoring.events", "agreement.escalated", monitoring.AgreementEscalated(
                agreement_id=a, from_level="current", to_level="reminder", days_past_due=3, missed_instalments=1,
                on=dt.date(2026, 3, 8)), case_id, dt.date(2026, 3, 8))
    day = START
    while day < dt.date(2026, 4, 30):
        nxt = day + dt.timedelta(days=1)
        add("monitoring.events", "business_date.advanced",
            monitoring.BusinessDateAdvanced(previous=day, current=nxt), "lender", nxt)
        day = nxt
    return out


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] * 1000


def bench_readmodel(infra: test_infra.TestInfra) -> None:
    from forbear_console import kpis
    from forbear_console.entrypoints import worker
    from forbear_console.readmodel import snapshot
    from forbear_console.readmodel.rebuild import rebuild
    from forbear_shared.worker import build_consumer, tune_gc

    print(f"\n[readmodel] a book of {CASES:,} cases, {AGREEMENTS:,} agreements")
    started = time.perf_counter()
    events = book()
    line("events generated", f"{len(events):,} in {time.perf_counter() - started:.1f} s")
    producer = KafkaProducer(bootstrap_servers=infra.bootstrap, acks="all", linger_ms=20, batch_size=256 * 1024)
    for topic, key, value in events:
        producer.send(infra.topic(topic), key=key, value=value)
    producer.flush()
    producer.close()
    published = len(events)
    del events  # not in the worker's heap, which the collector scans
    for name, value in infra.service_env().items():
        os.environ[name] = value
    spec = worker.consumer(pool_size=3)
    ctx = spec.service.ctx
    stop = threading.Event()
    loop = build_consumer(ctx.settings, ctx.pool, spec)
    tune_gc()  # the collector as run_worker sets it in the worker process
    thread = threading.Thread(target=loop.run, args=(stop,), daemon=True)
    started, cpu = time.perf_counter(), time.process_time()
    load = os.getloadavg()[0]
    thread.start()
    projected = 0
    while projected < published and time.perf_counter() - started < 1800:
        time.sleep(1.0)
        with ctx.pool.connection() as conn:
            row = conn.execute("select events_projected from rm_progress").fetchone()
        projected = int(row["events_projected"]) if row else 0
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    stop.set()
    thread.join(60)
    line("projection throughput (one consumer, group join included)", f"{projected / seconds:,.0f} events/s "
         f"({projected:,} in {seconds:.1f} s; target >= 5,000/s)")
    line("  the same per CPU-second of the consumer process (Postgres not included)",
         f"{projected / cpu:,.0f} events/s ({cpu:.1f} CPU-s; load average {load:.0f} on {os.cpu_count()} cores)")

    def timed(fn: object, runs: int) -> list[float]:
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            with transaction(ctx.pool) as conn:
                conn.execute("set local jit = off")
                fn(conn)  # type: ignore[operator]
            samples.append(time.perf_counter() - t)
        return samples

    k = timed(lambda conn: kpis.compute(conn), 30)
    line("KPI computation (the worker's, into rm_kpi_snapshot) p50 / p95", f"{statistics.median(k) * 1000:.0f} / "
         f"{_p95(k):.0f} ms (30 runs; once per <= 5 s while events arrive)")
    with transaction(ctx.pool) as conn:
        snapshot.refresh(conn)  # as the worker's gauge loop does
    with console_over_http(infra.database_url) as client:
        client.get("/kpis").raise_for_status()  # the first call opens the pool's connection
        k = http_timed(client, "/kpis", 30)
        line("GET /kpis over HTTP p50 / p95 (30 calls)", f"{statistics.median(k) * 1000:.0f} / {_p95(k):.0f} ms "
             "(target p95 <= 300 ms)")
        for queue_id in ("awaiting-evidence", "active-agreements", "at-risk", "offers-open", "supervisor-review"):
            q = http_timed(client, f"/readmodel/queues/{queue_id}?limit=100", 60)
            line(f"GET queue page {queue_id} p50 / p95 (100 rows, 60 calls)",
                 f"{statistics.median(q) * 1000:.1f} / {_p95(q):.1f} ms (target p95 <= 100 ms)")
    with ctx.pool.connection() as conn:
        counts = conn.execute("select (select count(*) from rm_case) as cases, (select count(*) from rm_agreement"
                              " where status = 'active') as agreements, (select count(*) from rm_timeline) as lines"
                              ).fetchone()
    line("read model loaded", f"{counts['cases']:,} cases, {counts['agreements']:,} active agreements, "
         f"{counts['lines']:,} timeline lines" if counts else "?")
    done = rebuild(ctx.settings, ctx.pool, group=f"{infra.group_prefix}console-bench-{uuid.uuid4().hex[:6]}")
    line("rebuild from offset 0 (truncate, replay every topic)", f"{done.seconds:.1f} s for {done.records:,} records "
         f"({done.records / done.seconds:,.0f}/s)")
    ctx.pool.close()


class console_over_http:  # noqa: N801 (a context manager, used as one)
    """The console app on a loopback port (uvicorn, in a thread) and a client holding an
    operator's sealed session cookie."""

    def __init__(self, database_url: str) -> None:
        import uvicorn
        from forbear_console.entrypoints import api
        from forbear_console.session import SESSION_COOKIE
        from forbear_console.settings import ConsoleSettings

        key = Fernet.generate_key().decode()
        settings = ConsoleSettings(service_name="console", oidc_issuer="http://127.0.0.1:1/realms/none",  # type: ignore[call-arg]
                                   console_session_key=key, database_url=database_url)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(api.create_app(settings), host="127.0.0.1", port=self.port,
                                                    log_level="warning", access_log=False))
        session = {"access_token": "at", "refresh_token": None, "expires_at": 1e12, "username": "bench",
                   "role": "agent"}
        sealed = Fernet(key.encode()).encrypt(json.dumps(session).encode()).decode()
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30,
                                   headers={"Cookie": f"{SESSION_COOKIE}={sealed}"})
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> httpx.Client:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.client

    def __exit__(self, *_exc: object) -> None:
        self.client.close()
        self.server.should_exit = True
        self.thread.join(10)


def http_timed(client: httpx.Client, path: str, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        answer = client.get(path)
        answer.raise_for_status()
        answer.json()
        samples.append(time.perf_counter() - t)
    return samples
