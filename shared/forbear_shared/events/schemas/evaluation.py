"""Events produced by the evaluation service (topic ``evaluation.events``, key: case id)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from forbear_shared.events.registry import registry
from forbear_shared.events.schemas.common import DecimalStr, Payload, Phrase, Reason, ScheduleDoc

Outcome = Literal["approve", "needs_supervisor", "need_more_evidence", "decline"]


class OfferTerms(Payload):
    """One ranked plan: the option, the new schedule and what changed."""

    rank: int = Field(ge=1)
    option: str
    schedule: ScheduleDoc
    #: arrears instalments (分期偿还): the interest-free arrears parts due with the first
    #: instalments of ``schedule``, on the same dates; absent for every other option
    arrears_schedule: ScheduleDoc | None = Field(default=None, exclude_if=lambda value: value is None)
    new_instalment: DecimalStr
    old_instalment: DecimalStr
    term_months: int = Field(ge=1)
    annual_rate: DecimalStr
    capitalised_arrears: DecimalStr | None = None
    waived_amount: DecimalStr | None = None
    fees: DecimalStr | None = None
    summary: str = ""
    #: ``summary``'s parts as the catalogues' phrases (forbear_shared.phrasing), for the pages
    summary_phrases: list[Phrase] = Field(default_factory=list, exclude_if=lambda value: not value)
    loan_ids: list[str] = []
    #: the annualised rate (年化利率) the borrower must be shown: the plan's periodic IRR x
    #: periods per year, a fraction to six places (``forbear_shared.domain.apr``); absent only
    #: on decisions made before it was disclosed
    apr: DecimalStr | None = Field(default=None, exclude_if=lambda value: value is None)


@registry.register("case.decided", 1)
class CaseDecided(Payload):
    decision_id: str
    borrower_id: str
    outcome: Outcome
    reasons: list[Reason]
    policy_version: str
    offers: list[OfferTerms] = []
    decided_on: dt.date
    decided_by: Literal["rules", "supervisor"] = "rules"
    #: a supervisor's written reason when overriding the rules' outcome
    override_reason: str | None = None
    submission: int = 1
    renegotiates_agreement_id: str | None = None
    #: a decline states the borrower's right to appeal: the last business date to lodge one
    #: (``appeals`` in the policy); absent on other outcomes and under a policy without appeals
    appeal_deadline: dt.date | None = Field(default=None, exclude_if=lambda value: value is None)


AppealOutcome = Literal["upheld", "overturned"]


@registry.register("appeal.lodged", 1)
class AppealLodged(Payload):
    """A declined borrower (or their representative) appealed the decline: it waits for a
    supervisor other than the decider, and legal referral waits with it (dual tracking). The
    statement stays with evaluation: it is the borrower's own words, never on the wire."""

    appeal_id: str
    decision_id: str
    borrower_id: str
    lodged_on: dt.date
    #: the last day of the appeal window the appeal was lodged in
    deadline: dt.date
    lodged_by: Literal["borrower", "representative"]
    representative_id: str | None = Field(default=None, exclude_if=lambda value: value is None)
    #: the kinds of new evidence named (``DocumentType`` values), never their descriptions
    evidence_types: list[str] = []
    renegotiates_agreement_id: str | None = Field(default=None, exclude_if=lambda value: value is None)


@registry.register("appeal.decided", 1)
class AppealDecided(Payload):
    """A supervisor decided an appeal: ``upheld`` (the decline stands) or ``overturned`` (the
    decline is set aside; ``outcome_decision_id`` names the decision that sends the case back to
    the borrower for the appeal's evidence and a new evaluation)."""

    appeal_id: str
    decision_id: str
    borrower_id: str
    outcome: AppealOutcome
    decided_on: dt.date
    outcome_decision_id: str | None = Field(default=None, exclude_if=lambda value: value is None)
    renegotiates_agreement_id: str | None = Field(default=None, exclude_if=lambda value: value is None)
