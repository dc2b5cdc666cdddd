"""Events produced by the evaluation service (topic ``evaluation.events``, key: case id)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from forbear_shared.events.registry import registry
from forbear_shared.events.schemas.common import DecimalStr, Payload, Reason, ScheduleDoc

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
