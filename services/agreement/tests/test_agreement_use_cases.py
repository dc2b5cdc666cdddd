"""The agreement service's use cases with a fake unit of work: what each decides, writes and announces.

The repository is an in-memory stand-in with the same functions the use cases call; the unit of
work collects the events instead of writing an outbox. What Postgres itself guarantees (locks,
the outbox, the inbox) is tested in tests/integration/test_agreement_flow.py.

The numbers come from the lender's policy: an offer is valid 14 days (``offers.validity_days``),
so an offer decided on 5 January can be accepted until 19 January and expires on the 20th.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from forbear_agreement.adapters import pades
from forbear_agreement.adapters.code_sender import SigningCodeMessage
from forbear_agreement.bootstrap import Agreement
from forbear_agreement.domain.document import PaymentMethod
from forbear_agreement.domain.offers import CounterProposal
from forbear_agreement.domain.signing import Party
from forbear_agreement.domain.signing_code import Channel, TooManyCodes
from forbear_agreement.domain.verification import verdict
from forbear_agreement.service_layer import agreements, offers
from forbear_shared import business_date as business_date_projection
from forbear_shared.auth import Principal
from forbear_shared.domain.money import Money
from forbear_shared.domain.schedule import equal_instalment_schedule, equal_principal_schedule
from forbear_shared.errors import Conflict, Forbidden, NotFound, Unprocessable
from forbear_shared.events import decode, encode, new_event
from forbear_shared.events.schemas.common import Reason, ScheduleDoc
from forbear_shared.events.schemas.evaluation import CaseDecided, OfferTerms
from forbear_shared.events.schemas.monitoring import BusinessDateAdvanced
from forbear_shared.policy_loader import load_policy
from forbear_shared.unit_of_work import UnitOfWork

POLICY = load_policy()
DECIDED = dt.date(2026, 1, 5)
LAST_DAY = dt.date(2026, 1, 19)
CASE = "cas-1"
BORROWER = "B-1"
BORROWER_ME = Principal(subject="u-borrower", role="borrower", borrower_id=BORROWER)
SOMEONE_ELSE = Principal(subject="u-other", role="borrower", borrower_id="B-2")
AGENT = Principal(subject="u-agent", role="agent")
SUPERVISOR = Principal(subject="u-supervisor", role="supervisor")


# -- the fakes ------------------------------------------------------------------------


@dataclass
class Outbox:
    """The code sender: what the borrower would receive."""

    sent: list[SigningCodeMessage] = field(default_factory=list)

    def send(self, message: SigningCodeMessage) -> None:
        self.sent.append(message)

    def last_code(self) -> str:
        return self.sent[-1].code


OUTBOX = Outbox()
SECRET = b"use-case-test-secret"


@dataclass
class Emitted:
    type: str
    case_id: str
    business_date: dt.date
    payload: Any


class FakeUnitOfWork(UnitOfWork[Agreement]):
    """One transaction that commits into ``committed`` (events) or leaves nothing on an exception."""

    def __init__(self, today: dt.date, signer: Any = None, *, at: dt.datetime | None = None) -> None:
        super().__init__(Agreement(ctx=SimpleNamespace(name="agreement"), policy=POLICY,  # type: ignore[arg-type]
                                   signer=signer, code_sender=OUTBOX, code_secret=SECRET))
        self.today = today
        self.at = at or dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
        self.pending: list[Emitted] = []
        self.committed: list[Emitted] = []
        self.transactions = 0

    def __enter__(self) -> FakeUnitOfWork:
        self.transactions += 1
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if kind is None:
            self.committed += self.pending
        self.pending = []

    @property
    def conn(self) -> Any:
        return "conn"

    @property
    def business_date(self) -> dt.date:
        return self.today

    def now(self) -> dt.datetime:
        return self.at

    def emit(self, *, type: str, payload: Any, case_id: str, business_date: dt.date, causation: Any = None,
             topic: str | None = None) -> Any:
        self.pending.append(Emitted(type, case_id, business_date, payload))

    def types(self) -> list[str]:
        return [e.type for e in self.committed]


@dataclass
class FakeRepository:
    """The repository functions the use cases call, over dicts; counts the locks taken."""

    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    offers: dict[str, dict[str, Any]] = field(default_factory=dict)
    agreements: dict[str, dict[str, Any]] = field(default_factory=dict)
    signatures: list[dict[str, Any]] = field(default_factory=list)
    signed_documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    audits: list[dict[str, Any]] = field(default_factory=list)
    codes: list[dict[str, Any]] = field(default_factory=list)
    locks: int = 0

    def decision_seen(self, conn: Any, decision_id: str) -> bool:
        return any(o["decision_id"] == decision_id for o in self.offers.values()) or any(
            c["latest_decision_id"] == decision_id for c in self.cases.values())

    def lock_case(self, conn: Any, case_id: str) -> dict[str, Any] | None:
        self.locks += 1
        return self.cases.get(case_id)

    def lock_offer(self, conn: Any, offer_id: str) -> dict[str, Any] | None:
        self.locks += 1
        return self.offers.get(offer_id)

    def lock_agreement(self, conn: Any, agreement_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        self.locks += 1
        row = self.agreements.get(agreement_id)
        if row is None:
            return None
        return row, [s for s in self.signatures if s["agreement_id"] == agreement_id]

    def agreement_of_case(self, conn: Any, case_id: str) -> dict[str, Any] | None:
        in_play = [a for a in self.agreements.values()
                   if a["case_id"] == case_id and a["status"] in ("awaiting_signatures", "active")]
        return in_play[-1] if in_play else None

    def record_decision(self, conn: Any, *, case_id: str, borrower_id: str, decision_id: str, outcome: str,
                        decided_on: dt.date, renegotiates_agreement_id: str | None) -> None:
        self.cases[case_id] = {"case_id": case_id, "borrower_id": borrower_id, "latest_decision_id": decision_id,
                               "latest_outcome": outcome}

    def insert_offer(self, conn: Any, **values: Any) -> None:
        self.offers[values["offer_id"]] = {**values, "status": "open", "status_on": values["decided_on"],
                                           "status_reason": None, "counter_proposal": None}

    def close_open_offers(self, conn: Any, case_id: str, *, status: str, on: dt.date, reason: str,
                          except_offer_id: str | None = None) -> list[dict[str, Any]]:
        moved = []
        for offer in sorted(self.offers.values(), key=lambda o: o["offer_id"]):
            if offer["case_id"] == case_id and offer["status"] == "open" and offer["offer_id"] != except_offer_id:
                offer.update(status=status, status_on=on, status_reason=reason)
                moved.append(dict(offer))
        return moved

    def set_offer_status(self, conn: Any, offer_id: str, *, status: str, on: dt.date, reason: str | None = None,
                         counter_proposal: dict[str, Any] | None = None) -> dict[str, Any]:
        offer = self.offers[offer_id]
        offer.update(status=status, status_on=on, status_reason=reason)
        if counter_proposal is not None:
            offer["counter_proposal"] = counter_proposal
        return dict(offer)

    def expire_offers_due(self, conn: Any, business_date: dt.date) -> list[dict[str, Any]]:
        due = [o for o in self.offers.values() if o["status"] == "open" and o["expires_on"] < business_date]
        for offer in due:
            offer.update(status="expired", status_on=offer["expires_on"] + dt.timedelta(days=1),
                         status_reason="validity_ended")
        return [dict(o) for o in due]

    def insert_agreement(self, conn: Any, draft: Any, document: Any) -> dict[str, Any]:
        row = {
            "agreement_id": draft.agreement_id, "case_id": draft.case_id, "offer_id": draft.offer_id,
            "borrower_id": draft.borrower_id, "option": draft.terms.option, "loan_ids": list(draft.loan_ids),
            "schedule": draft.schedule.to_dict(), "policy_version": draft.policy_version,
            "payment_method": draft.payment_method.value, "supersedes_agreement_id": draft.supersedes_agreement_id,
            "document_sha256": document.sha256, "document_canonical": document.canonical_json,
            "accepted_on": draft.accepted_on,
            "status": "awaiting_signatures", "activated_on": None,
        }
        self.agreements[draft.agreement_id] = row
        return dict(row)

    def insert_signature(self, conn: Any, **values: Any) -> dict[str, Any]:
        self.signatures.append(dict(values))
        return dict(values)

    def set_agreement_status(self, conn: Any, agreement_id: str, status: str, *,
                             activated_on: dt.date | None = None) -> dict[str, Any]:
        row = self.agreements[agreement_id]
        row.update(status=status, activated_on=activated_on or row["activated_on"])
        return dict(row)

    def supersede(self, conn: Any, agreement_id: str) -> bool:
        row = self.agreements.get(agreement_id)
        if row is None or row["status"] != "active":
            return False
        row["status"] = "superseded"
        return True

    def insert_signed_document(self, conn: Any, **values: Any) -> None:
        assert values["agreement_id"] not in self.signed_documents, "a signed PDF is written once"
        self.signed_documents[values["agreement_id"]] = dict(values)

    def audit(self, conn: Any, **values: Any) -> None:
        self.audits.append(values)

    def code_issue_times(self, conn: Any, agreement_id: str, since: dt.datetime) -> list[dt.datetime]:
        return [c["issued_at"] for c in self.codes if c["agreement_id"] == agreement_id and c["issued_at"] > since]

    def insert_signing_code(self, conn: Any, **values: Any) -> dict[str, Any]:
        for code in self.codes:
            if code["agreement_id"] == values["agreement_id"] and code["status"] == "live":
                code["status"] = "superseded"
        row = {**values, "attempts": 0, "status": "live", "used_at": None}
        self.codes.append(row)
        return dict(row)

    def newest_signing_code(self, conn: Any, agreement_id: str) -> dict[str, Any] | None:
        mine = [c for c in self.codes if c["agreement_id"] == agreement_id]
        return dict(mine[-1]) if mine else None

    def update_signing_code(self, conn: Any, code_id: str, *, attempts: int, status: str,
                            used_at: dt.datetime | None) -> None:
        code = next(c for c in self.codes if c["code_id"] == code_id)
        code.update(attempts=attempts, status=status, used_at=used_at or code["used_at"])


@pytest.fixture
def repo(monkeypatch: pytest.MonkeyPatch) -> FakeRepository:
    fake = FakeRepository()
    monkeypatch.setattr(offers, "repo", fake)
    monkeypatch.setattr(agreements, "repo", fake)
    return fake


# -- the messages -----------------------------------------------------------------------


def plan(rank: int, months: int) -> OfferTerms:
    schedule = equal_instalment_schedule(Money.of("12000.00"), Decimal("0.06"), months,
                                         DECIDED + dt.timedelta(days=30), start_date=DECIDED).to_dict()
    return OfferTerms(
        rank=rank, option="term_extension", schedule=schedule,
        new_instalment=Decimal(schedule["instalments"][0]["total"]), old_instalment=Decimal("1100.00"),
        term_months=months, annual_rate=Decimal("0.06"), capitalised_arrears=Decimal("1250.00"),
        summary=f"term extension over {months} months", loan_ids=["LN-0001"],
    )


def case_decided(decision_id: str, *, outcome: str = "approve", plans: list[OfferTerms] | None = None,
                 borrower_id: str = BORROWER, renegotiates: str | None = None) -> Any:
    payload = CaseDecided(
        decision_id=decision_id, borrower_id=borrower_id, outcome=outcome,  # type: ignore[arg-type]
        reasons=[Reason(code="affordable_plan_found")], policy_version="demo-lender-2026.1",
        offers=(plans if plans is not None else [plan(2, 36), plan(1, 24)]) if outcome == "approve" else [],
        decided_on=DECIDED, renegotiates_agreement_id=renegotiates,
    )
    return decode(encode(new_event(type="case.decided", payload=payload, case_id=CASE, business_date=DECIDED,
                                   producer="evaluation", occurred_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))))


def decide(repo: FakeRepository, decision_id: str = "dec-1", **kwargs: Any) -> list[str]:
    """The case's offers after a decision, rank order."""
    offers.on_case_decided(case_decided(decision_id, **kwargs), FakeUnitOfWork(DECIDED))
    made = [o for o in repo.offers.values() if o["decision_id"] == decision_id]
    return [o["offer_id"] for o in sorted(made, key=lambda o: o["rank"])]


# -- decisions make offers ---------------------------------------------------------------


def test_an_approval_makes_one_offer_per_plan_in_rank_order_valid_until_the_14th_day(repo: FakeRepository) -> None:
    uow = FakeUnitOfWork(DECIDED)
    offers.on_case_decided(case_decided("dec-1"), uow)

    made = [e.payload for e in uow.committed]
    assert uow.types() == ["offer.made", "offer.made"]
    assert [(m.rank, m.term_months) for m in made] == [(1, 24), (2, 36)]
    assert {m.expires_on for m in made} == {LAST_DAY}
    assert all(m.offer_id.startswith("off-") for m in made)
    assert repo.locks == 1 and uow.transactions == 1


def test_a_new_decision_withdraws_the_open_offers_before_making_its_own(repo: FakeRepository) -> None:
    first = decide(repo, "dec-1")
    uow = FakeUnitOfWork(DECIDED)
    offers.on_case_decided(case_decided("dec-2", plans=[plan(1, 48)]), uow)

    assert uow.types() == ["offer.withdrawn", "offer.withdrawn", "offer.made"]
    assert {e.payload.offer_id for e in uow.committed[:2]} == set(first)
    assert {e.payload.reason for e in uow.committed[:2]} == {"superseded_by_decision"}


def test_a_decline_withdraws_the_open_offers_and_makes_none(repo: FakeRepository) -> None:
    decide(repo, "dec-1")
    uow = FakeUnitOfWork(DECIDED)
    offers.on_case_decided(case_decided("dec-2", outcome="decline"), uow)

    assert uow.types() == ["offer.withdrawn", "offer.withdrawn"]
    assert repo.cases[CASE]["latest_outcome"] == "decline"


def test_a_decision_applied_twice_changes_nothing_the_second_time(repo: FakeRepository) -> None:
    decide(repo, "dec-1")
    again = FakeUnitOfWork(DECIDED)
    offers.on_case_decided(case_decided("dec-1"), again)

    assert again.committed == [] and len(repo.offers) == 2


def test_a_decision_naming_another_borrower_is_refused_and_writes_nothing(repo: FakeRepository) -> None:
    decide(repo, "dec-1")
    uow = FakeUnitOfWork(DECIDED)
    with pytest.raises(ValueError, match="another borrower"):
        offers.on_case_decided(case_decided("dec-2", borrower_id="B-2"), uow)

    assert uow.committed == []
    assert repo.cases[CASE]["latest_decision_id"] == "dec-1"
    assert {o["status"] for o in repo.offers.values()} == {"open"}


def test_once_an_offer_is_accepted_only_a_renegotiation_of_that_agreement_makes_new_offers(
        repo: FakeRepository) -> None:
    taken = offers.accept_offer(offers.AcceptOffer(decide(repo, "dec-1")[0], PaymentMethod.ACCOUNT_DEBIT,
                                                   BORROWER_ME), FakeUnitOfWork(DECIDED))

    later = FakeUnitOfWork(DECIDED)
    offers.on_case_decided(case_decided("dec-2", plans=[plan(1, 48)]), later)
    assert later.committed == []
    assert [a["action"] for a in repo.audits][-1] == "no_offers_agreement_in_play"

    renegotiated = decide(repo, "dec-3", plans=[plan(1, 60)], renegotiates=taken.agreement_id)
    assert len(renegotiated) == 1
    assert repo.offers[renegotiated[0]]["renegotiates_agreement_id"] == taken.agreement_id


# -- accepting ---------------------------------------------------------------------------


def test_accepting_draws_up_the_agreement_awaiting_the_borrowers_signature_and_withdraws_the_other_offer(
        repo: FakeRepository) -> None:
    first, second = decide(repo)
    uow = FakeUnitOfWork(LAST_DAY)
    repo.locks = 0

    answer = offers.accept_offer(offers.AcceptOffer(first, PaymentMethod.BANK_TRANSFER, BORROWER_ME), uow)

    assert uow.types() == ["offer.accepted", "offer.withdrawn"]
    accepted, withdrawn = (e.payload for e in uow.committed)
    assert accepted.agreement_id == answer.agreement_id and answer.agreement_id.startswith("agr-")
    assert accepted.accepted_on == LAST_DAY
    assert (withdrawn.offer_id, withdrawn.reason) == (second, "another_offer_accepted")
    assert answer.status == "awaiting_signatures" and answer.awaiting_signature_of == "borrower"
    assert answer.payment_method == "bank_transfer" and answer.signatures == []
    assert answer.schedule is not None and len(answer.schedule.instalments) == 24
    assert answer.document_sha256 == repo.agreements[answer.agreement_id]["document_sha256"]
    assert (repo.offers[first]["status"], repo.offers[second]["status"]) == ("accepted", "withdrawn")
    assert repo.locks == 1 and uow.transactions == 1


def test_an_arrears_instalments_offer_is_signed_and_monitored_with_its_parts_on_top(repo: FakeRepository) -> None:
    # 分期偿还: the regular plan (12,000.00 at 6 % over 24 months) and the arrears, 1,250.00 in 5
    # interest-free parts of 250.00 on its first five due dates. The agreement states one
    # schedule: the first five instalments owe 250.00 more each, the balance before the first is
    # 13,250.00, and the whole plan owes 1,250.00 more than the regular one
    regular = plan(1, 24)
    parts = equal_principal_schedule(Money.of("1250.00"), Decimal(0), 5, DECIDED + dt.timedelta(days=30),
                                     start_date=DECIDED).to_dict()
    arrears = regular.model_copy(update={"option": "arrears_instalments",
                                         "arrears_schedule": ScheduleDoc.model_validate(parts)})
    [offer_id] = decide(repo, plans=[arrears])
    answer = offers.accept_offer(offers.AcceptOffer(offer_id, PaymentMethod.BANK_TRANSFER, BORROWER_ME),
                                 FakeUnitOfWork(LAST_DAY))
    assert answer.schedule is not None
    signed = [Decimal(i.total) for i in answer.schedule.instalments]
    plain = [Decimal(i["total"]) for i in regular.schedule.model_dump(mode="json")["instalments"]]
    assert [a - b for a, b in zip(signed, plain, strict=True)] == [Decimal("250.00")] * 5 + [Decimal("0.00")] * 19
    assert Decimal(answer.schedule.instalments[0].opening_balance) == Decimal("13250.00")
    assert sum(signed) - sum(plain) == Decimal("1250.00")
    # the offer as the borrower compares it shows the same schedule
    with_parts = offers.views.offer_view(repo.offers[offer_id])
    assert with_parts.schedule is not None and [Decimal(i.total) for i in with_parts.schedule.instalments] == signed


def test_an_offer_cannot_be_accepted_from_the_20th_and_nothing_is_written(repo: FakeRepository) -> None:
    first, _ = decide(repo)
    uow = FakeUnitOfWork(LAST_DAY + dt.timedelta(days=1))
    with pytest.raises(Conflict) as refused:
        offers.accept_offer(offers.AcceptOffer(first, PaymentMethod.ACCOUNT_DEBIT, BORROWER_ME), uow)

    assert refused.value.reason == "offer_expired" and "2026-01-19" in refused.value.message
    assert uow.committed == [] and repo.agreements == {}


def test_another_borrowers_offer_is_not_found(repo: FakeRepository) -> None:
    first, _ = decide(repo)
    with pytest.raises(NotFound):
        offers.accept_offer(offers.AcceptOffer(first, PaymentMethod.ACCOUNT_DEBIT, SOMEONE_ELSE),
                            FakeUnitOfWork(DECIDED))
    assert repo.offers[first]["status"] == "open"


def test_an_accepted_offer_cannot_be_countered(repo: FakeRepository) -> None:
    first, _ = decide(repo)
    offers.accept_offer(offers.AcceptOffer(first, PaymentMethod.ACCOUNT_DEBIT, AGENT), FakeUnitOfWork(DECIDED))
    with pytest.raises(Conflict) as refused:
        offers.counter_offer(offers.CounterOffer(first, CounterProposal(None, 48), BORROWER_ME),
                             FakeUnitOfWork(DECIDED))
    assert refused.value.reason == "offer_not_open"


# -- countering --------------------------------------------------------------------------


def test_a_counter_proposal_counters_this_offer_and_withdraws_the_others(repo: FakeRepository) -> None:
    first, second = decide(repo)
    uow = FakeUnitOfWork(DECIDED)

    answer = offers.counter_offer(
        offers.CounterOffer(first, CounterProposal(Money.of("800.00"), 48), BORROWER_ME), uow)

    assert uow.types() == ["offer.countered", "offer.withdrawn"]
    countered = uow.committed[0].payload
    assert (countered.proposed_instalment, countered.proposed_term_months) == (Decimal("800.00"), 48)
    assert answer.status == "countered" and answer.agreement_id is None
    assert answer.counter_proposal is not None and answer.counter_proposal.proposed_instalment == Decimal("800.00")
    assert repo.offers[second]["status_reason"] == "counter_proposed"


def test_an_empty_counter_proposal_is_invalid_before_anything_is_loaded(repo: FakeRepository) -> None:
    first, _ = decide(repo)
    repo.locks = 0
    uow = FakeUnitOfWork(DECIDED)
    with pytest.raises(Unprocessable) as invalid:
        offers.counter_offer(offers.CounterOffer(first, CounterProposal(None, None), BORROWER_ME), uow)
    assert invalid.value.reason == "counter_proposal_empty"
    assert repo.locks == 0 and uow.transactions == 0


# -- signing -----------------------------------------------------------------------------


def agreement_awaiting_signatures(repo: FakeRepository) -> offers.views.AgreementView:
    first, _ = decide(repo)
    return offers.accept_offer(offers.AcceptOffer(first, PaymentMethod.ACCOUNT_DEBIT, BORROWER_ME),
                               FakeUnitOfWork(DECIDED))


def test_an_agent_has_no_lender_signing_authority_and_nothing_is_loaded(repo: FakeRepository) -> None:
    drawn = agreement_awaiting_signatures(repo)
    repo.locks = 0
    with pytest.raises(Forbidden) as refused:
        agreements.sign_agreement(agreements.SignAgreement(drawn.agreement_id, Party.LENDER, drawn.document_sha256,
                                                           AGENT), FakeUnitOfWork(DECIDED))
    assert refused.value.reason == "lender_signing_authority_required"
    assert repo.locks == 0


def test_the_lender_countersigns_only_after_the_borrower(repo: FakeRepository) -> None:
    drawn = agreement_awaiting_signatures(repo)
    uow = FakeUnitOfWork(DECIDED)
    with pytest.raises(Conflict) as refused:
        agreements.sign_agreement(agreements.SignAgreement(drawn.agreement_id, Party.LENDER, drawn.document_sha256,
                                                           SUPERVISOR), uow)
    assert refused.value.reason == "borrower_signature_required"
    assert uow.committed == [] and repo.signatures == []


def test_the_second_signature_activates_the_agreement_and_supersedes_the_one_it_renegotiated(
        repo: FakeRepository) -> None:
    drawn = agreement_awaiting_signatures(repo)
    repo.agreements["agr-old"] = {"agreement_id": "agr-old", "case_id": CASE, "status": "active"}
    repo.agreements[drawn.agreement_id]["supersedes_agreement_id"] = "agr-old"
    today = DECIDED + dt.timedelta(days=2)

    agreements.issue_signing_code(agreements.IssueSigningCode(drawn.agreement_id, Channel.SMS, AGENT),
                                  FakeUnitOfWork(today))
    by_borrower = FakeUnitOfWork(today)
    signed = agreements.sign_agreement(agreements.SignAgreement(drawn.agreement_id, Party.BORROWER,
                                                                drawn.document_sha256.upper(), AGENT,
                                                                OUTBOX.last_code()), by_borrower)
    assert isinstance(signed, offers.views.AgreementView)
    assert by_borrower.types() == ["agreement.signed"]
    assert signed.awaiting_signature_of == "lender" and signed.signatures[0].on_behalf_of_borrower is True
    assert (signed.signatures[0].channel, signed.signatures[0].otp_verified) == ("sms", True)

    by_lender = FakeUnitOfWork(today)
    active = agreements.sign_agreement(agreements.SignAgreement(drawn.agreement_id, Party.LENDER,
                                                                drawn.document_sha256, SUPERVISOR), by_lender)
    assert isinstance(active, offers.views.AgreementView)
    assert by_lender.types() == ["agreement.signed", "agreement.activated"]
    activated = by_lender.committed[1].payload
    assert (activated.activated_on, activated.supersedes_agreement_id) == (today, "agr-old")
    assert len(activated.schedule.instalments) == 24
    assert active.status == "active" and active.activated_on == today and active.awaiting_signature_of is None
    assert [s.party for s in active.signatures] == ["borrower", "lender"]
    assert repo.agreements["agr-old"]["status"] == "superseded"
    # the decision, the acceptance, the code's request, one per signature
    assert by_lender.transactions == 1 and repo.locks == 5


# -- the borrower's one-time code ----------------------------------------------------------


def sign_as_borrower(drawn: offers.views.AgreementView, code: str | None, *, at: dt.datetime | None = None,
                     who: Principal = BORROWER_ME) -> Any:
    return agreements.sign_agreement(agreements.SignAgreement(drawn.agreement_id, Party.BORROWER,
                                                              drawn.document_sha256, who, code),
                                     FakeUnitOfWork(DECIDED, at=at))


def test_a_code_is_sent_to_the_borrower_and_only_its_keyed_hash_is_kept_or_announced(repo: FakeRepository) -> None:
    drawn = agreement_awaiting_signatures(repo)
    uow = FakeUnitOfWork(DECIDED)
    answer = agreements.issue_signing_code(agreements.IssueSigningCode(drawn.agreement_id, Channel.EMAIL,
                                                                       BORROWER_ME), uow)
    code = OUTBOX.last_code()
    assert OUTBOX.sent[-1].borrower_id == BORROWER and OUTBOX.sent[-1].channel == "email"
    # 09:00 + 10 minutes
    assert answer.expires_at == dt.datetime(2026, 1, 5, 9, 10, tzinfo=dt.UTC) and answer.max_attempts == 5
    assert uow.types() == ["agreement.signing_code_issued"]
    written = repr((repo.codes, repo.audits, [e.payload.model_dump(mode="json") for e in uow.committed],
                    answer.model_dump(mode="json"), OUTBOX.sent[-1]))
    assert code not in written
    assert repo.codes[-1]["code_hmac"] != code and len(repo.codes[-1]["code_hmac"]) == 64


def test_another_borrower_can_neither_request_nor_use_a_code_for_the_agreement(repo: FakeRepository) -> None:
    drawn = agreement_awaiting_signatures(repo)
    with pytest.raises(NotFound):
        agreements.issue_signing_code(agreements.IssueSigningCode(drawn.agreement_id, Channel.SMS, SOMEONE_ELSE),
                                      FakeUnitOfWork(DECIDED))
    agreements.issue_signing_code(agreements.IssueSigningCode(drawn.agreement_id, Channel.SMS, BORROWER_ME),
                                  FakeUnitOfWork(DECIDED))
    with pytest.raises(NotFound):
        sign_as_borrower(drawn, OUTBOX.last_code(), who=SOMEONE_ELSE)
    assert repo.codes[-1]["attempts"] == 0


def test_a_wrong_code_is_refused_with_attempts_left_and_the_count_is_kept(repo: FakeRepository) -> None:
    drawn = agreement_awaiting_signatures(repo)
    agreements.issue_signing_code(agreements.IssueSigningCode(drawn.agreement_id, Channel.SMS, BORROWER_ME),
                                  FakeUnitOfWork(DECIDED))
    right = OUTBOX.last_code()
    wrong = f"{(int(right) + 1) % 10 ** 6:06d}"
    refused = sign_as_borrower(drawn, wrong)
    assert isinstance(refused, agreements.CodeRefused)
    assert (refused.reason, refused.check.attempts_left) == ("code_wrong", 4)
    assert repo.codes[-1]["attempts"] == 1 and repo.signatures == []
    assert repo.audits[-1]["action"] == "signing_code_refused" and right not in repr(repo.audits)

    signed = sign_as_borrower(drawn, right)
    assert isinstance(signed, offers.views.AgreementView)
    assert (signed.signatures[0].channel, signed.signatures[0].otp_verified) == ("sms", True)
    assert repo.codes[-1]["status"] == "used"
    with pytest.raises(Conflict) as again:  # the borrower has signed: nothing more to sign with a code
        sign_as_borrower(drawn, right)
    assert again.value.reason == "already_signed"


def test_the_fifth_wrong_code_kills_it_and_an_expired_code_is_refused(repo: FakeRepository) -> None:
    drawn = agreement_awaiting_signatures(repo)
    agreements.issue_signing_code(agreements.IssueSigningCode(drawn.agreement_id, Channel.SMS, BORROWER_ME),
                                  FakeUnitOfWork(DECIDED))
    right = OUTBOX.last_code()
    wrong = f"{(int(right) + 1) % 10 ** 6:06d}"
    answers = [sign_as_borrower(drawn, wrong) for _ in range(5)]
    assert [a.check.attempts_left for a in answers] == [4, 3, 2, 1, 0]
    assert sign_as_borrower(drawn, right).reason == "code_attempts_exhausted"
    assert repo.codes[-1]["status"] == "exhausted"

    # a new code a minute later; it dies at 09:11 (issued 09:01 + 10 minutes)
    agreements.issue_signing_code(agreements.IssueSigningCode(drawn.agreement_id, Channel.SMS, BORROWER_ME),
                                  FakeUnitOfWork(DECIDED, at=dt.datetime(2026, 1, 5, 9, 1, tzinfo=dt.UTC)))
    late = sign_as_borrower(drawn, OUTBOX.last_code(), at=dt.datetime(2026, 1, 5, 9, 11, tzinfo=dt.UTC))
    assert late.reason == "code_expired"


def test_a_new_code_within_a_minute_is_refused_and_a_newer_code_replaces_the_older(repo: FakeRepository) -> None:
    drawn = agreement_awaiting_signatures(repo)
    issue = agreements.IssueSigningCode(drawn.agreement_id, Channel.SMS, AGENT)
    agreements.issue_signing_code(issue, FakeUnitOfWork(DECIDED))
    first = OUTBOX.last_code()
    with pytest.raises(TooManyCodes) as soon:
        agreements.issue_signing_code(issue, FakeUnitOfWork(DECIDED, at=dt.datetime(2026, 1, 5, 9, 0, 30,
                                                                                     tzinfo=dt.UTC)))
    assert soon.value.reason == "code_requested_too_soon"
    agreements.issue_signing_code(issue, FakeUnitOfWork(DECIDED, at=dt.datetime(2026, 1, 5, 9, 2, tzinfo=dt.UTC)))
    assert [c["status"] for c in repo.codes] == ["superseded", "live"]
    if first != OUTBOX.last_code():
        assert sign_as_borrower(drawn, first, who=AGENT).reason == "code_wrong"


def test_the_borrower_signature_without_a_code_is_refused_and_another_borrower_learns_nothing(
        repo: FakeRepository) -> None:
    drawn = agreement_awaiting_signatures(repo)
    with pytest.raises(NotFound):
        sign_as_borrower(drawn, None, who=SOMEONE_ELSE)
    with pytest.raises(Unprocessable) as refused:
        sign_as_borrower(drawn, None)
    assert refused.value.reason == "one_time_code_required" and repo.signatures == []


def borrower_signs_with_a_code(drawn: offers.views.AgreementView, signer: Any) -> None:
    agreements.issue_signing_code(agreements.IssueSigningCode(drawn.agreement_id, Channel.SMS, BORROWER_ME),
                                  FakeUnitOfWork(DECIDED, signer))
    agreements.sign_agreement(agreements.SignAgreement(drawn.agreement_id, Party.BORROWER, drawn.document_sha256,
                                                       BORROWER_ME, OUTBOX.last_code()), FakeUnitOfWork(DECIDED, signer))


def test_the_lenders_countersignature_stores_a_signed_pdf_with_the_borrowers_consent_and_names_it(
        repo: FakeRepository, lender_signer: Any, trust_roots: list) -> None:
    drawn = agreement_awaiting_signatures(repo)
    borrower_signs_with_a_code(drawn, lender_signer)
    assert repo.signed_documents == {}  # the borrower's signature alone makes no PDF
    by_lender = FakeUnitOfWork(DECIDED, lender_signer)
    agreements.sign_agreement(agreements.SignAgreement(drawn.agreement_id, Party.LENDER, drawn.document_sha256,
                                                       SUPERVISOR), by_lender)
    stored = repo.signed_documents[drawn.agreement_id]
    assert stored["pdf_sha256"] == hashlib.sha256(stored["pdf"]).hexdigest()
    assert stored["document_sha256"] == drawn.document_sha256 and stored["signed_on"] == DECIDED
    result = verdict(pades.inspect(stored["pdf"], trust_roots), stored_document_sha256=drawn.document_sha256)
    assert result.valid, result.reasons
    assert result.consent is not None
    assert (result.consent["signed_by"], result.consent["signed_role"], result.consent["signed_on"]) == (
        "u-borrower", "borrower", DECIDED.isoformat())
    assert (result.consent["channel"], result.consent["otp_verified"]) == ("sms", True)
    activated = by_lender.committed[-1].payload
    assert activated.signed_pdf_sha256 == stored["pdf_sha256"]
    assert activated.signed_pdf_href == f"/agreements/{drawn.agreement_id}/document.pdf"


def test_a_renegotiated_agreement_gets_a_signed_pdf_of_its_own_and_the_old_one_is_left_as_it_was(
        repo: FakeRepository, lender_signer: Any) -> None:
    first = agreement_awaiting_signatures(repo)
    borrower_signs_with_a_code(first, lender_signer)
    agreements.sign_agreement(agreements.SignAgreement(first.agreement_id, Party.LENDER, first.document_sha256,
                                                       SUPERVISOR), FakeUnitOfWork(DECIDED, lender_signer))
    old_pdf = bytes(repo.signed_documents[first.agreement_id]["pdf"])

    (renegotiated,) = decide(repo, "dec-2", plans=[plan(1, 48)], renegotiates=first.agreement_id)
    second = offers.accept_offer(offers.AcceptOffer(renegotiated, PaymentMethod.ACCOUNT_DEBIT, BORROWER_ME),
                                 FakeUnitOfWork(DECIDED))
    assert second.supersedes_agreement_id == first.agreement_id
    borrower_signs_with_a_code(second, lender_signer)
    agreements.sign_agreement(agreements.SignAgreement(second.agreement_id, Party.LENDER, second.document_sha256,
                                                       SUPERVISOR), FakeUnitOfWork(DECIDED, lender_signer))
    assert set(repo.signed_documents) == {first.agreement_id, second.agreement_id}
    assert repo.signed_documents[first.agreement_id]["pdf"] == old_pdf
    assert repo.signed_documents[second.agreement_id]["document_sha256"] == second.document_sha256 != \
        first.document_sha256
    assert repo.agreements[first.agreement_id]["status"] == "superseded"


def test_without_a_signing_key_the_agreement_activates_with_no_signed_pdf(repo: FakeRepository) -> None:
    drawn = agreement_awaiting_signatures(repo)
    borrower_signs_with_a_code(drawn, None)
    uow = FakeUnitOfWork(DECIDED)
    agreements.sign_agreement(agreements.SignAgreement(drawn.agreement_id, Party.LENDER, drawn.document_sha256,
                                                       SUPERVISOR), uow)
    assert repo.signed_documents == {}
    assert uow.committed[-1].payload.signed_pdf_sha256 is None


# -- close of business ----------------------------------------------------------------------


def test_close_of_business_moves_the_business_date_and_expires_the_offers_past_their_last_day_once(
        repo: FakeRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    moved: list[dt.date] = []
    monkeypatch.setattr(business_date_projection, "apply_advanced",
                        lambda conn, event, service: moved.append(event.payload.current))
    decide(repo)

    def advance(previous: dt.date, current: dt.date) -> FakeUnitOfWork:
        event = decode(encode(new_event(
            type="business_date.advanced", payload=BusinessDateAdvanced(previous=previous, current=current),
            case_id="business-date", business_date=current, producer="monitoring",
            occurred_at=dt.datetime(2026, 1, 20, tzinfo=dt.UTC))))
        uow = FakeUnitOfWork(previous)
        offers.on_business_date_advanced(event, uow)
        return uow

    on_last_day = advance(DECIDED, LAST_DAY)
    assert on_last_day.committed == [] and moved == [LAST_DAY]

    catch_up = advance(LAST_DAY, LAST_DAY + dt.timedelta(days=3))
    assert catch_up.types() == ["offer.expired", "offer.expired"]
    # dated to the first day the offers could no longer be accepted, not to the day COB caught up
    assert {e.payload.expired_on for e in catch_up.committed} == {dt.date(2026, 1, 20)}
    assert catch_up.transactions == 1

    assert advance(LAST_DAY + dt.timedelta(days=3), LAST_DAY + dt.timedelta(days=4)).committed == []
