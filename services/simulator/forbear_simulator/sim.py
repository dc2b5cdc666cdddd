"""The demo lender at work, through Forbear's public doors only.

Actors and their doors:

* **borrowers** (portal, self-service) and **agents** (phone, branch, email, on the borrower's
  behalf) — intake's HTTP API (open a case, statement, evidence uploads, contacts, submit) and
  agreement's (accept or counter an offer, the borrower's signature);
* **agents** reviewing evidence (intake) and **supervisors** deciding reviews with a written
  reason (evaluation) and countersigning agreements for the lender (agreement);
* **core banking** — Kafka: ``loan.snapshot`` on ``corebanking.loans`` before a borrower's first
  contact, ``payment.received`` on ``corebanking.payments`` on the days the borrower pays;
* **the COB operator** — ``POST /business-date/advance`` on monitoring, once per simulated day.

Every business day the simulator reads the work queues (a handful of list calls), acts on its
own borrowers only (ids carry the seed and a run id) and closes the business day. The demo paces
days on an accelerated clock (``day_seconds``); headless runs them back to back.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import secrets
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from forbear_shared import dev_mailbox

from forbear_simulator.client import ApiError, Forbear, tiny_pdf, tiny_png
from forbear_simulator.identity import Identities, KeycloakIdentities
from forbear_simulator.portfolio import Borrower, generate, story

log = logging.getLogger("forbear.simulator")

GATHERING = {"awaiting_evidence", "evidence_to_review", "ready_to_submit"}
APPROVED_STATUSES = {"approved", "offer_accepted", "agreement_active", "completed", "legal_referral"}
REVIEW_REASONS_APPROVE = (
    "Earlier missed payments were during a documented hospital stay; hardship evidenced, approve the plan.",
    "Borrower explained the earlier episodes on the call; current hardship is documented. Approve.",
    "No-contact history is old and small; evidence complete and the plan passes the value test.",
)
REVIEW_REASONS_DECLINE = (
    "Repeated delinquency without contact and no explanation given; refer to collections.",
    "History of avoiding contact; the statement is not credible against the bank records. Decline.",
)


@dataclass
class Config:
    seed: int = 7
    borrowers: int = 300
    #: simulated business days to run; None: until stopped
    days: int | None = None
    arrival_days: int = 60
    #: wall-clock seconds per business day (0: as fast as the services allow)
    day_seconds: float = 2.5
    #: business days run back to back before the paced clock starts (demo)
    warmup_days: int = 0
    #: the least time a headless day takes, so that workers keep up with the date
    min_day_seconds: float = 0.15
    #: the actors' tokens: the realm's demo clients and registered portal borrowers by default
    identities: Identities = field(default_factory=KeycloakIdentities)
    port_offset: int = 0
    host: str = "127.0.0.1"
    bootstrap: str = field(default_factory=lambda: os.environ.get("FORBEAR_KAFKA_BOOTSTRAP", "127.0.0.1:19092"))
    topic_prefix: str = field(default_factory=lambda: os.environ.get("FORBEAR_TOPIC_PREFIX", ""))
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))
    #: demo: after each arrival window another wave of ``borrowers`` newcomers, up to this many waves
    waves: int = 1
    #: the agreement service's dev mailbox, where the borrowers' one-time signing codes arrive
    #: (``FORBEAR_DEV_MAILBOX_FILE``, as the services' settings read it)
    mailbox: Path = field(default_factory=dev_mailbox.mailbox_path)
    #: demo: a borrower left to a person on the portal (``DEMO_BORROWER``): registered with this
    #: password, their loan published by core banking, never acted for by the simulator
    demo_borrower_password: str | None = None


@dataclass
class Track:
    """What the simulator remembers of one borrower (the services hold the truth)."""

    borrower: Borrower
    case_id: str | None = None
    opened_day: int = -1
    opened_on: dt.date | None = None
    pending_docs: dict[str, str] = field(default_factory=dict)  # document_id -> document_type
    late_docs: list[str] = field(default_factory=list)
    reviewed_day: int = -1
    offers_seen_day: dict[str, int] = field(default_factory=dict)  # decision_id -> day first seen
    countered: bool = False
    agreement_id: str | None = None
    accepted_day: int = -1
    borrower_signed_day: int = -1
    activated: bool = False
    loan_id: str | None = None
    schedule: list[dict[str, Any]] = field(default_factory=list)  # number, due_date, total
    paid: set[int] = field(default_factory=set)
    settled_early: bool = False
    cured: bool = False
    contacted_levels: set[str] = field(default_factory=set)
    closed: bool = False
    promised: bool = False
    appealed: bool = False
    #: the representative the borrower authorised (the agents' calls go to them)
    representative_id: str | None = None


#: the borrower ``make run`` leaves to a person on the portal: realm user, borrower id, loan
DEMO_BORROWER = ("borrower1", "DEMO-0001", "LN-DEMO-0001")

#: who a borrower authorises: (kind, name as written on the authorisation)
REPRESENTATIVES = (("lawyer", "张律师"), ("debt_adviser", "Debt Advice Centre"), ("family_member", "李女士"))

APPEAL_GROUNDS = (
    "My income fell after the decision's figures were taken; the new bank statements show it.",
    "The decision counted a salary I no longer receive; my employer stopped paying in the autumn.",
    "家里有人住院，收入下降，新的银行流水可以证明。",
)


class Simulation:
    def __init__(self, config: Config, say: Callable[[str], None] = print) -> None:
        self.cfg = config
        self.say = say
        self.rng = random.Random(f"{config.seed}-actions")
        self.portfolio = generate(config.seed, config.borrowers, config.run_id, config.arrival_days)
        self.tracks = {b.borrower_id: Track(b) for b in self.portfolio}
        self.prefix = f"S{config.seed}-{config.run_id}-"
        self.by_case: dict[str, Track] = {}
        self.by_agreement: dict[str, Track] = {}
        base = Forbear(config.identities.agent(), port_offset=config.port_offset, host=config.host)
        self.agent = base
        self.supervisor = base.as_(config.identities.supervisor())
        self.cob = base.as_(config.identities.cob())
        self.day = 0
        self.today: dt.date | None = None
        self.stats: Counter[str] = Counter()
        self._producer: Any = None
        self._stop = False

    # -- plumbing ---------------------------------------------------------------------------
    def stop(self, *_args: Any) -> None:
        self._stop = True

    def producer(self) -> Any:
        if self._producer is None:
            from kafka import KafkaProducer

            self._producer = KafkaProducer(bootstrap_servers=self.cfg.bootstrap, acks="all", linger_ms=5)
        return self._producer

    def publish(self, topic: str, type_: str, payload: Any, key: str) -> None:
        from forbear_shared.events import encode, new_event

        assert self.today is not None
        event = new_event(type=type_, payload=payload, case_id=key, business_date=self.today, producer="corebanking",
                          occurred_at=dt.datetime.now(dt.UTC))
        self.producer().send(f"{self.cfg.topic_prefix}{topic}", key=key.encode(), value=encode(event))

    def borrower_client(self, b: Borrower) -> Forbear:
        return self.agent.as_(self.cfg.identities.borrower(b.borrower_id))

    def channel_actor(self, b: Borrower) -> tuple[Forbear, bool]:
        """Who acts for the borrower: the borrower on the portal, else an agent (closed by caller)."""
        if b.self_service:
            return self.borrower_client(b), True
        return self.agent, False

    def attempt(self, what: str, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except ApiError as exc:
            self.stats[f"refused:{what}:{exc.status_code}"] += 1
            log.debug("%s refused: %s", what, exc)
            return None

    def mine(self, borrower_id: str | None) -> Track | None:
        if borrower_id and borrower_id.startswith(self.prefix):
            return self.tracks.get(borrower_id)
        return None

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.today = self.agent.business_date("monitoring")
                self.agent.business_date("intake")
                return
            except (httpx.HTTPError, ApiError) as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the services do not answer: {exc}") from exc
                time.sleep(1)

    # -- the whole run ------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        self.wait_ready()
        if self.cfg.demo_borrower_password:
            self.demo_borrower(self.cfg.demo_borrower_password)
        self.say(f"simulator run {self.cfg.run_id}: seed {self.cfg.seed}, {len(self.portfolio)} borrowers "
                 f"arriving over {self.cfg.arrival_days} business days, from {self.today}")
        while not self._stop and (self.cfg.days is None or self.day < self.cfg.days):
            started = time.monotonic()
            paced = self.day >= self.cfg.warmup_days and self.cfg.day_seconds > 0
            try:
                self.business_day()
                self.close_of_business()
            except (httpx.HTTPError, OSError, ApiError) as exc:
                if isinstance(exc, ApiError) and exc.status_code < 500:
                    raise
                # a service restarting: try the same day again shortly (what was done is not redone:
                # every create carries an idempotency key and the queues are read afresh)
                self.say(f"day {self.day}: services unavailable ({exc.__class__.__name__}); retrying")
                time.sleep(2)
                continue
            if self.day % 10 == 0 or paced:
                self.say(self.progress())
            budget = self.cfg.day_seconds if paced else self.cfg.min_day_seconds
            rest = budget - (time.monotonic() - started)
            if rest > 0:
                time.sleep(rest)
        if self._producer is not None:
            self._producer.flush(30)
        return self.stats_summary()

    def progress(self) -> str:
        s = self.stats
        return (f"{self.today} day {self.day}: opened {s['opened']}, reviewed {s['reviewed']}, submitted "
                f"{s['submitted']}, supervisor {s['supervisor_decided']}, accepted {s['accepted']}, countered "
                f"{s['countered']}, signed {s['lender_signed']}, payments {s['payments']}")

    def stats_summary(self) -> dict[str, Any]:
        return dict(self.stats)

    def close_of_business(self) -> None:
        assert self.today is not None
        if self._producer is not None:
            self._producer.flush(30)
        self.wait_for_workers()
        result = self.cob.advance()
        self.today = dt.date.fromisoformat(result["business_date"])
        self.day += 1

    def wait_for_workers(self, timeout: float = 60.0) -> None:
        """Back-pressure: no new close of business before every service has heard the last one.

        Each service keeps its own projection of the business date (from ``business_date.advanced``);
        on a busy machine the workers can fall behind an accelerated clock, and offers would expire
        before the borrower could have seen them.
        """
        deadline = time.monotonic() + timeout
        for service in ("intake", "evaluation", "agreement"):
            while not self._stop and self.cob.business_date(service) < self.today and time.monotonic() < deadline:
                self.stats["waited_for_workers"] += 1
                time.sleep(0.1)

    def next_wave(self) -> None:
        wave = len(self.portfolio) // max(self.cfg.borrowers, 1)
        if wave >= self.cfg.waves or self.day + 1 < wave * self.cfg.arrival_days:
            return
        newcomers = generate(self.cfg.seed, self.cfg.borrowers, self.cfg.run_id, self.cfg.arrival_days, wave)
        self.portfolio += newcomers
        self.tracks.update({b.borrower_id: Track(b) for b in newcomers})
        self.say(f"wave {wave + 1}: {len(newcomers)} more borrowers over the next {self.cfg.arrival_days} business days")

    def business_day(self) -> None:
        self.next_wave()
        if self.today is None:
            self.today = self.cob.business_date("monitoring")
        self.core_banking_loans()
        self.arrivals()
        self.late_evidence()
        self.review_evidence()
        self.submit_ready()
        self.supervisor_reviews()
        self.appeal_declines()
        self.supervisor_appeals()
        self.answer_offers()
        self.signatures()
        self.monitor_agreements()

    def demo_borrower(self, password: str) -> None:
        """``make run``: one overdue borrower of the demo book is left to whoever opens the portal:
        the realm user ``DEMO_BORROWER[0]`` with borrower id ``DEMO_BORROWER[1]`` and loan
        ``DEMO_BORROWER[2]``, published by core banking (again on every run, as of today)."""
        from forbear_shared.events.schemas.common import LoanSnapshot
        from forbear_shared.events.schemas.corebanking import LoanSnapshotted

        username, borrower_id, loan_id = DEMO_BORROWER
        [drawn] = generate(self.cfg.seed, 1, "demo", self.cfg.arrival_days)
        loan = replace(drawn.loans[0], loan_id=loan_id)
        if self.today is None:
            self.today = self.cob.business_date("monitoring")
        snap = LoanSnapshot.model_validate(loan.snapshot(borrower_id, self.today.isoformat()))
        self.publish("corebanking.loans", "loan.snapshot", LoanSnapshotted(loan=snap), loan.loan_id)
        self.producer().flush(30)
        register = getattr(self.cfg.identities, "register", None)
        if register is not None:
            register(username, borrower_id, password)
        self.say(f"portal: log in as {username} / {password} (borrower {borrower_id}, loan {loan_id}, "
                 f"{loan.days_past_due} days past due); the simulator leaves this borrower to you")

    # -- core banking: loans ------------------------------------------------------------------
    def core_banking_loans(self) -> None:
        from forbear_shared.events.schemas.common import LoanSnapshot
        from forbear_shared.events.schemas.corebanking import LoanSnapshotted

        assert self.today is not None
        for b in self.portfolio:
            # published the day before the first contact (on day 0, for the first two days)
            if b.arrival_day == self.day + 1 or (self.day == 0 and b.arrival_day == 0):
                for loan in b.loans:
                    snap = LoanSnapshot.model_validate(loan.snapshot(b.borrower_id, self.today.isoformat()))
                    self.publish("corebanking.loans", "loan.snapshot", LoanSnapshotted(loan=snap), loan.loan_id)
        if self._producer is not None:
            self._producer.flush(30)

    # -- intake ---------------------------------------------------------------------------------
    def arrivals(self) -> None:
        for b in self.portfolio:
            if b.arrival_day == self.day and self.tracks[b.borrower_id].case_id is None:
                self.open_case(self.tracks[b.borrower_id])

    def open_case(self, t: Track) -> None:
        b = t.borrower
        actor, own = self.channel_actor(b)
        body: dict[str, Any] = {
            "borrower": {"borrower_id": b.borrower_id, "name": b.name, "national_id": b.national_id,
                         "phone": b.phone},
            "loan_ids": [loan.loan_id for loan in b.loans],
            "hardship_category": b.hardship, "story": story(b), "channel": b.channel,
        }
        if not own:
            body["history"] = b.history()
        key = f"open-{b.borrower_id}"
        try:
            case = actor.open_case(body, idempotency_key=key)
        except ApiError as exc:
            if exc.reason != "unknown_loan":
                raise
            # core banking's snapshot not consumed yet: the channel gives the loans with the case
            assert self.today is not None
            body["loans"] = [loan.snapshot(b.borrower_id, self.today.isoformat()) for loan in b.loans]
            body["loan_ids"] = []
            case = actor.open_case(body, idempotency_key=key + "-with-loans")
        t.case_id, t.opened_day, t.opened_on = case["case_id"], self.day, self.today
        self.by_case[t.case_id] = t
        self.stats["opened"] += 1
        if b.wilful == "no_contact" and own:
            # the lender's records come from the lender, not the borrower's self-service
            self.attempt("history", lambda: self.supervisor.call(
                "intake", "PUT", f"/cases/{t.case_id}/history",
                json={"history": b.history(), "reason": "records from the collections system"}))
        actor.put_statement(t.case_id, b.statement())
        if b.channel in ("phone", "branch"):
            self.attempt("contact", lambda: self.agent.contact(
                t.case_id, "borrower", b.channel, self.local_time(), direction="inbound",
                note="first contact about the hardship", idempotency_key=f"first-{b.borrower_id}"))
        docs = list(b.required_documents)
        now = docs if b.evidence in ("complete", "false") else docs[:1] if len(docs) > 1 else []
        t.late_docs = [d for d in docs if d not in now] if b.evidence == "late" else []
        for n, doc_type in enumerate(now):
            self.upload(t, actor, doc_type, n)
        if b.index % 7 == 3 and b.evidence != "false":
            self.authorise_representative(t, actor)
        if own:
            actor.close()

    def authorise_representative(self, t: Track, actor: Forbear) -> None:
        """One borrower in seven gets professional help (or a relative's) at the start: the signed
        authorisation is uploaded with the evidence, and the representative is authorised to be
        contacted and to negotiate for half a year; the agents' calls then go to them."""
        assert t.case_id is not None and self.today is not None
        b = t.borrower
        doc = self.attempt("upload", lambda: actor.upload(
            t.case_id, "representative_authorisation", tiny_pdf(f"{b.borrower_id} authorisation"),
            "authorisation.pdf", "application/pdf", idempotency_key=f"auth-{b.borrower_id}"))
        if not doc:
            return
        t.pending_docs[doc["document_id"]] = "representative_authorisation"
        kind, name = REPRESENTATIVES[b.index % len(REPRESENTATIVES)]
        body = {"kind": kind, "name": name, "channel": "phone", "scopes": ["communications", "negotiation"],
                "ends_on": (self.today + dt.timedelta(days=180)).isoformat(), "document_id": doc["document_id"]}
        rep = self.attempt("representative", lambda: actor.call(
            "intake", "POST", f"/cases/{t.case_id}/representatives", json=body,
            headers={"Idempotency-Key": f"rep-{b.borrower_id}"}))
        if rep:
            t.representative_id = rep["representative_id"]
            self.stats["representatives"] += 1

    def upload(self, t: Track, actor: Forbear, doc_type: str, n: int) -> None:
        assert t.case_id is not None
        if n % 2 == 0:
            content, name, media = tiny_pdf(f"{t.borrower.borrower_id} {doc_type}"), f"{doc_type}.pdf", "application/pdf"
        else:
            content, name, media = tiny_png(t.borrower.index * 16 + n), f"{doc_type}.png", "image/png"
        doc = self.attempt("upload", lambda: actor.upload(t.case_id, doc_type, content, name, media,
                                                          idempotency_key=f"doc-{t.borrower.borrower_id}-{doc_type}"))
        if doc:
            t.pending_docs[doc["document_id"]] = doc_type
            self.stats["uploaded"] += 1

    def late_evidence(self) -> None:
        for t in self.tracks.values():
            b = t.borrower
            if t.case_id and t.late_docs and self.day >= t.opened_day + b.late_after_days:
                actor, own = self.channel_actor(b)
                for n, doc_type in enumerate(t.late_docs, start=1):
                    self.upload(t, actor, doc_type, n)
                t.late_docs = []
                if own:
                    actor.close()

    def my_cases(self, status: str) -> list[tuple[Track, dict[str, Any]]]:
        found, offset = [], 0
        while True:
            page = self.agent.cases(status=status, limit=500, offset=offset)
            for case in page:
                t = self.mine(case["borrower_id"])
                if t is not None and t.case_id == case["case_id"]:
                    found.append((t, case))
            if len(page) < 500:
                return found
            offset += 500

    def review_evidence(self) -> None:
        for t, _case in self.my_cases("evidence_to_review"):
            if self.day < t.opened_day + 1 or not t.pending_docs:
                continue  # the back office works yesterday's uploads
            b = t.borrower
            false_done = False
            for document_id in list(t.pending_docs):
                if b.evidence == "false" and not false_done:
                    self.attempt("review", lambda d=document_id: self.agent.review(
                        t.case_id, d, "reject", reason="document does not match the issuer's records",  # noqa: B023 (called at once)
                        found_false=True))
                    false_done = True
                else:
                    self.attempt("review", lambda d=document_id: self.agent.review(t.case_id, d, "accept"))  # noqa: B023 (called at once)
                del t.pending_docs[document_id]
                self.stats["reviewed"] += 1
            t.reviewed_day = self.day
            if false_done:
                # the agent sends it on: the rules decide what a false document means
                if self.attempt("submit", lambda: self.agent.submit(t.case_id)):  # noqa: B023 (called at once)
                    self.stats["submitted"] += 1

    def submit_ready(self) -> None:
        for t, _case in self.my_cases("ready_to_submit"):
            actor, own = self.channel_actor(t.borrower)
            if self.attempt("submit", lambda a=actor: a.submit(t.case_id)):  # noqa: B023 (called at once)
                self.stats["submitted"] += 1
            if own:
                actor.close()

    # -- evaluation: the supervisor -----------------------------------------------------------
    def supervisor_reviews(self) -> None:
        offset = 0
        while True:
            page = self.supervisor.reviews("open", limit=500, offset=offset)
            for review in page:
                t = self.mine(review["borrower_id"])
                if t is None or review["case_id"] != t.case_id:
                    continue
                opened = dt.date.fromisoformat(review["opened_on"])
                assert self.today is not None
                if (self.today - opened).days < 2:
                    continue  # the queue is worked with a little delay
                approve = t.borrower.supervisor_approves
                reasons = REVIEW_REASONS_APPROVE if approve else REVIEW_REASONS_DECLINE
                reason = reasons[t.borrower.index % len(reasons)]
                if self.attempt("decide", lambda r=review, a=approve, why=reason: self.supervisor.decide_review(
                        r["review_id"], "approve" if a else "decline", why)):
                    self.stats["supervisor_decided"] += 1
            if len(page) < 500:
                return
            offset += 500

    # -- evaluation: appeals of a decline --------------------------------------------------------
    def appeal_declines(self) -> None:
        """A third of the borrowers the rules declined appeal (on the portal or through an agent), with
        their grounds and one new document. A decline by the supervisor is not appealed here: the
        simulator has one supervisor, and the one who decided may not review the appeal."""
        for t, _case in self.my_cases("declined"):
            if t.appealed or t.borrower.index % 3:
                continue
            t.appealed = True
            declines = [d for d in self.agent.decisions(t.case_id) if d["outcome"] == "decline"]
            if not declines or declines[-1]["decided_by"] != "rules" or not declines[-1].get("appeal_deadline"):
                continue
            actor, own = self.channel_actor(t.borrower)
            grounds = APPEAL_GROUNDS[t.borrower.index % len(APPEAL_GROUNDS)]
            if self.attempt("appeal", lambda a=actor, d=declines[-1], g=grounds: a.lodge_appeal(
                    d["decision_id"], g, [{"document_type": "bank_statements",
                                                 "description": "statements of the last three months"}])):
                self.stats["appeals"] += 1
            if own:
                actor.close()

    def supervisor_appeals(self) -> None:
        """The supervisor works the appeals queue with a little delay: the borrowers the supervisor
        would have approved see the decline overturned, the others see it upheld."""
        assert self.today is not None
        for appeal in self.supervisor.appeals("pending"):
            t = self.mine(appeal["borrower_id"])
            if t is None or appeal["case_id"] != t.case_id:
                continue
            if (self.today - dt.date.fromisoformat(appeal["lodged_on"])).days < 2:
                continue
            overturn = t.borrower.supervisor_approves
            reason = "The new statements show the income the decision assumed is gone." if overturn else \
                "The new statements do not change the capacity the decision found."
            if self.attempt("decide appeal", lambda a=appeal, o=overturn, why=reason: self.supervisor.decide_appeal(
                    a["appeal_id"], "overturn" if o else "uphold", why)):
                self.stats["appeals_decided"] += 1

    # -- agreement: offers and signatures -------------------------------------------------------
    def answer_offers(self) -> None:
        by_case: dict[str, list[dict[str, Any]]] = {}
        offset = 0
        while True:
            page = self.agent.offers("open", limit=500, offset=offset)
            for offer in page["items"]:
                t = self.mine(offer["borrower_id"])
                if t is not None and offer["case_id"] == t.case_id:
                    by_case.setdefault(offer["case_id"], []).append(offer)
            offset += len(page["items"])
            if len(page["items"]) < 500 or offset >= page["total"]:
                break
        for case_id, offers in by_case.items():
            t = self.by_case[case_id]
            b = t.borrower
            decision = offers[0]["decision_id"]
            seen = t.offers_seen_day.setdefault(decision, self.day)
            if self.day < seen + b.response_days:
                continue
            best = min(offers, key=lambda o: o["rank"])
            actor, own = self.channel_actor(b)
            if b.counters and not t.countered:
                t.countered = True
                proposed = (Decimal(best["new_instalment"]) * Decimal("0.85")).quantize(Decimal("0.01"))
                if self.attempt("counter", lambda a=actor: a.counter(best["offer_id"], str(proposed))):  # noqa: B023 (called at once)
                    self.stats["countered"] += 1
            else:
                agreement = self.attempt("accept", lambda a=actor: a.accept(best["offer_id"], b.payment_method))  # noqa: B023 (called at once)
                if agreement:
                    t.agreement_id = agreement["agreement_id"]
                    t.accepted_day = self.day
                    self.by_agreement[t.agreement_id] = t
                    self.stats["accepted"] += 1
            if own:
                actor.close()

    def signatures(self) -> None:
        offset = 0
        waiting: list[dict[str, Any]] = []
        while True:
            page = self.agent.agreements("awaiting_signatures", limit=500, offset=offset)
            waiting += [a for a in page["items"] if self.mine(a["borrower_id"]) is not None]
            offset += len(page["items"])
            if len(page["items"]) < 500 or offset >= page["total"]:
                break
        for agreement in waiting:
            t = self.by_agreement.get(agreement["agreement_id"])
            if t is None:
                continue
            b = t.borrower
            party = agreement.get("awaiting_signature_of")
            if party == "borrower" and self.day >= t.accepted_day + 1:
                actor, own = self.channel_actor(b)
                doc = actor.document(t.agreement_id)  # type: ignore[arg-type]
                if self.attempt("sign", lambda a=actor, d=doc: self.borrower_signs(a, t.agreement_id, d)):  # noqa: B023 (called at once)
                    t.borrower_signed_day = self.day
                    self.stats["borrower_signed"] += 1
                if own:
                    actor.close()
            elif party == "lender" and self.day >= max(t.borrower_signed_day, t.accepted_day) + 1:
                doc = self.supervisor.document(t.agreement_id)  # type: ignore[arg-type]
                if self.attempt("sign", lambda d=doc: self.supervisor.sign(t.agreement_id, "lender",  # noqa: B023 (called at once)
                                                                            d["document_sha256"])):
                    self.stats["lender_signed"] += 1

    def borrower_signs(self, actor: Forbear, agreement_id: str, doc: dict[str, Any]) -> dict[str, Any]:
        """The borrower's code is sent to their phone (the local dev mailbox), then typed back: on
        the portal by the borrower, at a branch read out to the agent who records the signature."""
        sent = actor.request_signing_code(agreement_id, "sms")
        return actor.sign(agreement_id, "borrower", doc["document_sha256"],
                          one_time_code=dev_mailbox.latest_code(agreement_id, self.cfg.mailbox), attempt=str(sent["expires_at"]))

    # -- monitoring: core banking payments and the agents' calls ----------------------------------
    def monitor_agreements(self) -> None:
        offset = 0
        active: list[dict[str, Any]] = []
        while True:
            page = self.agent.monitored(status="active", limit=500, offset=offset)
            active += [a for a in page["items"] if self.mine(a["borrower_id"]) is not None]
            offset += len(page["items"])
            if len(page["items"]) < 500 or offset >= page["total"]:
                break
        for item in active:
            t = self.by_agreement.get(item["agreement_id"])
            if t is None:
                continue
            if not t.activated:
                view = self.agent.monitored_agreement(item["agreement_id"])
                t.activated = True
                t.loan_id = view["loan_ids"][0]
                t.schedule = [{"number": i["number"], "due_date": dt.date.fromisoformat(str(i["due_date"])[:10]),
                               "total": i["total"]} for i in view["schedule"]]
                self.stats["activated"] += 1
            self.pay(t)
            level = item.get("level")
            if level in ("reminder", "warning", "breach_notice") and level not in t.contacted_levels \
                    and t.case_id is not None:
                t.contacted_levels.add(level)
                # through the borrower's representative while the authorisation lasts
                party = "representative" if t.representative_id else "borrower"
                self.attempt("contact", lambda p=party: self.agent.contact(
                    t.case_id, p, "phone", self.local_time(), note=f"call after the {level}",  # noqa: B023 (called at once)
                    idempotency_key=f"{level}-{t.agreement_id}",  # noqa: B023 (called at once)
                    representative_id=t.representative_id))  # noqa: B023 (called at once)
                self.stats["contacts"] += 1
            if level == "reminder" and not t.promised:
                t.promised = True
                self.promise(t)
            if level == "current" and t.contacted_levels and not t.cured:
                t.cured = True

    def promise(self, t: Track) -> None:
        """At the first reminder the borrower (on the portal) or an agent (on the phone) promises the
        arrears within a week: a late payer who cures by then keeps it, one who has stopped breaks it."""
        assert self.today is not None and t.agreement_id is not None
        view = self.agent.monitored_agreement(t.agreement_id)
        arrears = Decimal(str(view["arrears"]["total"]))
        if arrears <= 0:
            return
        actor, own = self.channel_actor(t.borrower)
        if self.attempt("promise", lambda: actor.promise(
                t.agreement_id, str(arrears), self.today + dt.timedelta(days=7), "portal" if own else "phone",
                idempotency_key=f"promise-{t.agreement_id}")):
            self.stats["promises"] += 1
        if own:
            actor.close()

    def pay(self, t: Track) -> None:
        """Core banking books the borrower's payments, as the borrower's behaviour says."""
        from forbear_shared.events.schemas.corebanking import PaymentReceived

        assert self.today is not None and t.loan_id is not None and t.agreement_id is not None
        b = t.borrower
        if t.settled_early:
            return

        def send(reference: str, amount: Decimal) -> None:
            if amount <= 0:
                return
            self.publish("corebanking.payments", "payment.received",
                         PaymentReceived(reference=reference, loan_id=t.loan_id, amount=amount,
                                         received_on=self.today), t.loan_id)
            self.stats["payments"] += 1

        for inst in t.schedule:
            n, due = inst["number"], inst["due_date"]
            if n in t.paid:
                continue
            if b.behaviour == "breaks" and n >= b.behaviour_instalment:
                return  # the plan is broken: nothing more arrives
            if b.behaviour == "late_cure" and n == b.behaviour_instalment:
                if (self.today - due).days >= 3 + b.cure_after_dpd:
                    view = self.agent.monitored_agreement(t.agreement_id)
                    send(f"{t.agreement_id}-cure-{n}", Decimal(str(view["arrears"]["total"])))
                    # the arrears paid cover every instalment due so far
                    t.paid |= {i["number"] for i in t.schedule if i["due_date"] <= self.today}
                    continue
                return
            if due > self.today:
                return
            send(f"{t.agreement_id}-{n}", Decimal(str(inst["total"])))
            t.paid.add(n)
            if b.behaviour == "settles_early" and len(t.paid) >= b.behaviour_instalment:
                # a windfall: the rest of the plan paid in one go
                rest = sum((Decimal(str(i["total"])) for i in t.schedule if i["number"] not in t.paid),
                           Decimal("0.00"))
                send(f"{t.agreement_id}-settle", rest)
                t.paid |= {i["number"] for i in t.schedule}
                t.settled_early = True
                return

    def local_time(self) -> str:
        return f"{self.rng.randint(9, 19):02d}:{self.rng.choice(['00', '15', '30', '45'])}"

    # -- the outcome -------------------------------------------------------------------------------
    def outcome(self, settle_seconds: float = 60.0) -> dict[str, Any]:
        """The portfolio's outcome as the services report it (this run's borrowers only)."""
        self.wait_for_workers()
        deadline = time.monotonic() + settle_seconds
        while True:  # let evaluation decide what was submitted on the last days
            cases: list[dict[str, Any]] = []
            offset = 0
            while True:
                page = self.agent.cases(limit=500, offset=offset)
                cases += [c for c in page if self.mine(c["borrower_id"]) is not None]
                if len(page) < 500:
                    break
                offset += 500
            if time.monotonic() > deadline or not any(c["status"] == "under_evaluation" for c in cases):
                break
            time.sleep(1)
        statuses = Counter(c["status"] for c in cases)
        approved = sum(1 for c in cases if c["status"] in APPROVED_STATUSES or c.get("last_outcome") == "approve")
        declined = sum(1 for c in cases if c["status"] == "declined")
        monitored: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self.agent.monitored(limit=500, offset=offset)
            monitored += [a for a in page["items"] if self.mine(a["borrower_id"]) is not None]
            offset += len(page["items"])
            if len(page["items"]) < 500 or offset >= page["total"]:
                break
        delinquent = cured = breached = referred = completed = 0
        recovered = Decimal("0.00")
        for item in monitored:
            view = self.agent.monitored_agreement(item["agreement_id"])
            ever_missed = any(i.get("missed_detected_on") for i in view["schedule"])
            is_referred = view["status"] == "referred"
            if ever_missed:
                delinquent += 1
                if not is_referred and (view["status"] == "completed" or view["level"] == "current"):
                    cured += 1
            if any(n["level"] == "breach_notice" for n in view["notices"]):
                breached += 1
            referred += is_referred
            completed += view["status"] == "completed"
            for payment in view["payments"]:
                recovered += sum((Decimal(str(a["amount"])) for a in payment["allocation"]), Decimal("0.00"))
        activated = len(monitored)

        def rate(n: int, d: int) -> float:
            return round(n / d, 4) if d else 0.0

        return {
            "run_id": self.cfg.run_id,
            "seed": self.cfg.seed,
            "borrowers": len(self.portfolio),
            "business_days": self.day,
            "business_date": self.today.isoformat() if self.today else None,
            "cases_opened": len(cases),
            "cases_by_status": dict(sorted(statuses.items())),
            "decided": approved + declined,
            "approval_rate": rate(approved, approved + declined),
            "agreements_activated": activated,
            "delinquent": delinquent,
            "cured": cured,
            "cure_rate": rate(cured, delinquent),
            "breached": breached,
            "breach_rate": rate(breached, activated),
            "referred": referred,
            "referral_rate": rate(referred, activated),
            "completed": completed,
            "recovered_amount": str(recovered),
        }


def install_signal_handlers(sim: Simulation) -> None:
    signal.signal(signal.SIGTERM, sim.stop)
    signal.signal(signal.SIGINT, sim.stop)
