"""The lender's versioned policy: every number the product brief calls policy.

A credit officer must be able to point at a decision and find the number
that produced it, so no business threshold is a code constant: each lives
in a policy file (``forbear_shared/policies/demo-lender.toml`` for the demo
lender), is validated here, and every decision records ``Policy.version``.
Another lender, or another jurisdiction's rules (UK forbearance, US loss
mitigation), is another file, not another code path.

Numbers that are money or rates must be written as *strings* in the file
("0.31", "50.00"): TOML floats are binary floats and are refused, because
0.1 + 0.2 is not 0.3 and a policy limit must be exact.

This module is pure: ``parse_policy`` takes a mapping (or TOML text); the
file itself is read by ``forbear_shared.policy_loader.load_policy``.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from datetime import date, time
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from .money import Money, to_decimal
from .rights import RightsPolicy
from .schedule import Frequency, RepaymentMethod
from .working_days import DayUnit, DueDateRoll, OfficialHolidays, WorkingCalendar


def _exact_decimal(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError("write decimals as strings in the policy file (e.g. \"0.31\"), floats are not exact")
    if isinstance(value, (str, int, Decimal)) and not isinstance(value, bool):
        return to_decimal(value)
    return value


ExactDecimal = Annotated[Decimal, BeforeValidator(_exact_decimal)]
Share = Annotated[Decimal, BeforeValidator(_exact_decimal), Field(ge=0, le=1)]
"""A fraction in [0, 1], e.g. 0.31 for a 31 % debt-to-income ceiling."""
Rate = Annotated[Decimal, BeforeValidator(_exact_decimal), Field(ge=0, le=1)]
"""An annual rate as a fraction; above 100 %/year is refused as a typo."""
Amount = Annotated[Decimal, BeforeValidator(_exact_decimal), Field(ge=0, decimal_places=2)]
"""A money amount in the policy currency, at most two places."""


class _PolicyModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class PolicyError(ValueError):
    """A policy file that is not valid; the message names the field."""


# ---------------------------------------------------------------------------
# Delinquency: grace, penalty interest, DPD buckets
# ---------------------------------------------------------------------------


class DpdBucket(_PolicyModel):
    """A reporting bucket of days past due (roll rates are measured between them)."""

    label: str
    """The bucket's name in reports, e.g. ``1-30``."""
    min_dpd: int = Field(ge=1)
    """Lowest DPD in the bucket (inclusive)."""
    max_dpd: int | None = Field(default=None, description="None: open-ended (e.g. 90+)")

    @model_validator(mode="after")
    def _ordered(self) -> DpdBucket:
        if self.max_dpd is not None and self.max_dpd < self.min_dpd:
            raise ValueError(f"bucket {self.label}: max_dpd {self.max_dpd} < min_dpd {self.min_dpd}")
        return self

    def contains(self, dpd: int) -> bool:
        return dpd >= self.min_dpd and (self.max_dpd is None or dpd <= self.max_dpd)


class DelinquencyPolicy(_PolicyModel):
    grace_days: int = Field(ge=0, le=31)
    """Days after a due date in which paying in full still counts as on time."""
    penalty_uplift: Share
    """Penalty interest (罚息) rate = contract rate x (1 + uplift); PBoC practice allows 30-50 %."""
    penalty_day_count: str = "ACT/360"
    """Daily penalty rate = annual / 360, as Chinese banks compute 日利率."""
    dpd_buckets: tuple[DpdBucket, ...]
    """Reporting buckets of DPD, contiguous from 1, the last open-ended (roll rates move between them)."""

    @model_validator(mode="after")
    def _buckets_contiguous(self) -> DelinquencyPolicy:
        if self.penalty_day_count not in ("ACT/360", "ACT/365"):
            raise ValueError("penalty_day_count must be ACT/360 or ACT/365")
        if not self.dpd_buckets:
            raise ValueError("at least one DPD bucket is needed")
        expected_min = 1
        for index, bucket in enumerate(self.dpd_buckets):
            if bucket.min_dpd != expected_min:
                raise ValueError(
                    f"DPD buckets must be ordered and contiguous from 1: {bucket.label} starts at "
                    f"{bucket.min_dpd}, expected {expected_min}"
                )
            if bucket.max_dpd is None:
                if index != len(self.dpd_buckets) - 1:
                    raise ValueError("only the last DPD bucket may be open-ended")
            else:
                expected_min = bucket.max_dpd + 1
        if self.dpd_buckets[-1].max_dpd is not None:
            raise ValueError("the last DPD bucket must be open-ended so every DPD has a bucket")
        return self

    def bucket_for(self, dpd: int) -> str | None:
        """The bucket label for ``dpd``; ``None`` when not delinquent (DPD 0)."""
        for bucket in self.dpd_buckets:
            if bucket.contains(dpd):
                return bucket.label
        return None


# ---------------------------------------------------------------------------
# Payment allocation
# ---------------------------------------------------------------------------


class Component(StrEnum):
    """What a payment can pay, in the lender's words."""

    FEES = "fees"
    PENALTY_INTEREST = "penalty_interest"
    INTEREST = "interest"
    PRINCIPAL = "principal"


class AllocationPolicy(_PolicyModel):
    order: tuple[Component, ...]
    """Fees -> penalty -> interest -> principal protects the lender's recovery
    of costs first and keeps principal (which bears penalty) for last."""
    tolerance: Amount
    """Largest shortfall (inclusive) that still counts an instalment as paid,
    so a borrower is not escalated for a few fen of bank charges."""

    @model_validator(mode="after")
    def _all_components_once(self) -> AllocationPolicy:
        if sorted(self.order) != sorted(Component) or len(self.order) != len(Component):
            raise ValueError("allocation order must list fees, penalty_interest, interest, principal exactly once")
        return self


class PaymentEntryPolicy(_PolicyModel):
    """Payments an agent enters by hand (slips, branch receipts), not booked by core banking."""

    max_backdated_days: int = Field(ge=0, le=366)
    """How far before the business date a manual payment may say it was received: long
    enough for a slip that arrives late, short enough that a late instalment cannot be
    made to look paid on time. Every backdated entry is audited."""


# ---------------------------------------------------------------------------
# Loans the lender takes negotiation requests for
# ---------------------------------------------------------------------------


class LoanPolicy(_PolicyModel):
    """What a loan declared with a case may be; core banking's own records are not checked here."""

    currencies: tuple[str, ...] = Field(min_length=1)
    """ISO 4217 codes of the loans this lender books."""
    max_term_months: int = Field(ge=1, le=600)
    """The longest original term of a loan this lender books."""
    snapshot_window_days: int = Field(ge=0, le=366)
    """A declared loan's ``as_of`` lies within this many days of the business date: older
    figures are stale, and the services' business dates may differ by a close of business
    or two while they catch up, so a day ahead is not refused."""

    @model_validator(mode="after")
    def _iso_codes(self) -> LoanPolicy:
        for code in self.currencies:
            if len(code) != 3 or not code.isascii() or not code.isupper() or not code.isalpha():
                raise ValueError(f"loan currency {code!r} is not an ISO 4217 alphabetic code")
        return self


# ---------------------------------------------------------------------------
# Restructuring options and their limits
# ---------------------------------------------------------------------------


class RestructuringPolicy(_PolicyModel):
    max_total_term_months: int = Field(ge=1, le=600)
    """China's credit-card rule allows personal instalment plans at most 5 years.

    Terms and their limits are months whatever the plan's frequency: a plan in days has
    ``Frequency.periods_in_months(months)`` = floor(months x periods a year / 12) instalments in
    them (12 months: 52 weeks, 26 fortnights, 24 periods of 15 days), never more than fit."""
    penalty_waiver_max_share: Share
    """Penalty interest is waived first; the demo lender may waive all of it."""
    interest_waiver_max_share: Share
    """Cap on waived accrued interest, as a share of the accrued interest."""
    interest_waiver_requires_complete_evidence: bool = True
    """Interest waivers need strong evidence (product brief)."""
    max_deferral_months: int = Field(ge=0, le=24)
    """Longest payment deferral (延期还款), in months (the brief's typical limit is 6); a pause of a
    plan in days is ``periods_in_months`` of its periods (1 month: 4 weeks, 2 fortnights, 2
    periods of 15 days)."""
    deferral_fee: Amount
    """Fee a payment deferral charges, once."""
    max_arrears_instalments: int = Field(ge=1, le=60)
    """Most parts the arrears may be paid in on top of the regular instalment (分期偿还, typically
    12): a count of the plan's instalments (weekly parts for a weekly plan)."""
    rate_floor: Rate
    """The waterfall lowers the rate in steps but never below this."""
    rate_step: Rate
    """How much the waterfall lowers the rate at each step (e.g. 0.0025: a quarter point); above 0."""
    principal_deferral_allowed: bool
    """Whether the waterfall's last step may set principal aside as an interest-free balloon."""
    principal_deferral_max_share: Share
    """Largest share of the balance that may be set aside as a non-interest balloon."""
    consolidation_supervisor_threshold: Amount
    """Consolidations whose merged balance is above this need supervisor approval."""

    @model_validator(mode="after")
    def _consistent(self) -> RestructuringPolicy:
        if self.rate_step <= 0:
            raise ValueError("rate_step must be positive")
        if not self.principal_deferral_allowed and self.principal_deferral_max_share != 0:
            raise ValueError("principal_deferral_max_share must be 0 when principal deferral is not allowed")
        return self


# ---------------------------------------------------------------------------
# Products: repayment methods and frequencies; re-amortisation and re-ageing
# ---------------------------------------------------------------------------


class SchedulePolicy(_PolicyModel):
    """Which repayment methods and frequencies the lender's plans may use.

    A loan states its own method and frequency; a restructured plan keeps them when they are
    allowed here and falls back to the first allowed (monthly, annuity by default) otherwise.
    """

    frequencies: tuple[Frequency, ...] = (Frequency.MONTHLY,)
    """Frequencies a plan may use; the first is the fallback."""
    methods: tuple[RepaymentMethod, ...] = (RepaymentMethod.EQUAL_INSTALMENT, RepaymentMethod.EQUAL_PRINCIPAL)
    """Repayment methods a plan may use; the first is the fallback."""

    @model_validator(mode="after")
    def _not_empty(self) -> SchedulePolicy:
        if not self.frequencies or len(set(self.frequencies)) != len(self.frequencies):
            raise ValueError("schedules.frequencies must list at least one frequency, each once")
        if not self.methods or len(set(self.methods)) != len(self.methods):
            raise ValueError("schedules.methods must list at least one repayment method, each once")
        return self

    def frequency_for(self, wanted: Frequency) -> Frequency:
        return wanted if wanted in self.frequencies else self.frequencies[0]

    def method_for(self, wanted: RepaymentMethod) -> RepaymentMethod:
        return wanted if wanted in self.methods else self.methods[0]


class ReamortisationPolicy(_PolicyModel):
    """Re-amortisation: the overdue principal spread over the remaining instalments, keeping
    their due dates (cf. Apache Fineract's re-amortization). The term does not move, so it
    suits a short arrears on a loan with a few instalments left to absorb it."""

    allowed: bool = False
    """Whether re-amortisation is offered at all."""
    max_remaining_instalments: int = Field(default=60, ge=1, le=600)
    """Re-amortise only when at most this many instalments remain: over a long remaining term
    the overdue principal hides in instalments that fall due years later."""
    min_remaining_instalments: int = Field(default=2, ge=1, le=600)
    """At least this many must remain, or the overdue principal is simply due at once."""

    @model_validator(mode="after")
    def _range(self) -> ReamortisationPolicy:
        if self.min_remaining_instalments > self.max_remaining_instalments:
            raise ValueError("reamortisation.min_remaining_instalments must not exceed max_remaining_instalments")
        return self


class ReageingPolicy(_PolicyModel):
    """Re-ageing: the unpaid balance as N new instalments from a start date; DPD back to 0.

    The limits are the FFIEC Uniform Retail Credit Classification and Account Management
    Policy's for open-end re-ageing, applied here to instalment loans: the borrower shows a
    renewed willingness and ability to pay (consecutive payments), a loan is re-aged at most
    once in 12 months and twice in 5 years, so re-ageing cannot hide a loan that will not pay.
    """

    allowed: bool = False
    """Whether re-ageing is offered at all."""
    max_per_12_months: int = Field(default=1, ge=0)
    """Re-ageings of one loan allowed in any 12 months (FFIEC: 1)."""
    max_per_5_years: int = Field(default=2, ge=0)
    """Re-ageings of one loan allowed in any 5 years (FFIEC: 2)."""
    min_consecutive_payments: int = Field(default=3, ge=0, le=60)
    """Consecutive full instalments paid recently (FFIEC: three consecutive minimum payments)."""
    max_instalments: int = Field(default=60, ge=1, le=600)
    """The most new instalments a re-aged plan may have."""

    @model_validator(mode="after")
    def _windows(self) -> ReageingPolicy:
        if self.max_per_12_months > self.max_per_5_years:
            raise ValueError("reageing.max_per_12_months must not exceed max_per_5_years")
        return self


# ---------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------


class WilfulDefaultPolicy(_PolicyModel):
    """Indicators that a borrower will not pay rather than cannot pay."""

    no_contact_delinquencies_threshold: int = Field(ge=1)
    """Earlier overdue episodes without contact that count as a wilful-default indicator (e.g. 2)."""
    no_contact_lookback_months: int = Field(ge=1)
    """How far back those episodes are counted, in months (e.g. 24)."""
    broken_agreement_lookback_months: int = Field(ge=1)
    """A negotiated agreement broken within this many months is an indicator (e.g. 12)."""
    decline_indicators: tuple[str, ...] = ("capacity_to_pay", "evidence_false", "declaration_untrue")
    """Indicator codes that decline the case; any other indicator routes it to a supervisor."""


class LenderValuePolicy(_PolicyModel):
    """Inputs of the lender value test (cf. the HAMP NPV test)."""

    redefault_probability: Share
    """Chance that a modified loan re-defaults within 12 months (the value test
    turns it into a constant monthly hazard)."""
    recovery_rate: Share
    """Share of the balance recovered through legal action, before costs."""
    legal_costs: Amount
    """Costs of legal action, deducted from what it recovers."""
    months_to_recover: int = Field(ge=0, le=240)
    """Months from referral until legal action recovers the money."""
    annual_discount_rate: Rate
    """The lender's cost of funds: future money is discounted at this rate / 12 a month."""


class ContactBand(_PolicyModel):
    """Early contact counts: DPD at first contact maps to a priority band."""

    label: str
    """The band's name, recorded as the case's priority (e.g. ``early``)."""
    max_dpd: int | None = Field(default=None, ge=0)
    """Inclusive upper DPD of the band; None for the last, open-ended band."""


class EvaluationPolicy(_PolicyModel):
    """Evaluation parameters; the evaluation service may add fields here."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    affordable_share_of_disposable_income: Share
    """The instalment may take at most this share of disposable income,
    leaving a buffer for the unexpected (cf. the UK Standard Financial Statement)."""
    dti_ceiling: Share
    """Housing/debt payment to gross income target, cf. HAMP's 31 %."""
    wilful_default: WilfulDefaultPolicy
    lender_value: LenderValuePolicy
    early_contact_bands: tuple[ContactBand, ...]
    """Priority bands by DPD at first contact, in increasing order, the last open-ended."""
    interest_waiver_contact_bands: tuple[str, ...] = ("early",)
    """Early contact counts: borrowers in these bands are also offered a waiver
    of accrued interest (within the restructuring cap)."""

    @model_validator(mode="after")
    def _bands_ordered(self) -> EvaluationPolicy:
        if not self.early_contact_bands:
            raise ValueError("at least one early-contact band is needed")
        previous = -1
        for index, band in enumerate(self.early_contact_bands):
            if band.max_dpd is None:
                if index != len(self.early_contact_bands) - 1:
                    raise ValueError("only the last early-contact band may be open-ended")
            elif band.max_dpd <= previous:
                raise ValueError("early-contact bands must be in increasing DPD order")
            else:
                previous = band.max_dpd
        if self.early_contact_bands[-1].max_dpd is not None:
            raise ValueError("the last early-contact band must be open-ended")
        return self

    def contact_band(self, dpd_at_first_contact: int) -> str:
        for band in self.early_contact_bands:
            if band.max_dpd is None or dpd_at_first_contact <= band.max_dpd:
                return band.label
        raise AssertionError("validated: the last band is open-ended")


# ---------------------------------------------------------------------------
# Offers, evidence, escalation, legal, renegotiation, contact
# ---------------------------------------------------------------------------


class OfferPolicy(_PolicyModel):
    validity_days: int = Field(ge=1, le=90)
    """Days a borrower has to accept an offer before it expires."""


class EvidencePolicy(_PolicyModel):
    deadline_days: int = Field(ge=1, le=90)
    """Days to provide a requested document; an expired deadline declines the case."""


class EscalationPolicy(_PolicyModel):
    reminder_dpd: int = Field(ge=1)
    """DPD at which a reminder is sent (the first step of the ladder)."""
    warning_dpd: int = Field(ge=1)
    """DPD at which a warning is sent; above ``reminder_dpd``."""
    breach_notice_dpd: int = Field(ge=1)
    """DPD at which the breach notice is served, starting the remedy period; above ``warning_dpd``."""
    remedy_days: int = Field(ge=14)
    """A breach notice gives at least 14 days to remedy before referral."""
    referral_missed_instalments: int = Field(ge=1)
    """Unpaid missed instalments that trigger referral without waiting for the remedy period."""

    @model_validator(mode="after")
    def _ladder_ordered(self) -> EscalationPolicy:
        if not self.reminder_dpd < self.warning_dpd < self.breach_notice_dpd:
            raise ValueError("escalation ladder must be ordered: reminder_dpd < warning_dpd < breach_notice_dpd")
        return self


class LegalRoute(StrEnum):
    PRE_LITIGATION_MEDIATION = "pre_litigation_mediation"
    LAWSUIT = "lawsuit"
    ASSET_PRESERVATION = "asset_preservation"


class LegalPolicy(_PolicyModel):
    """Route choice: mediation for small debts with a clean history (courts
    encourage 诉前调解 first), asset preservation when the amount is large
    enough that assets may be moved, a lawsuit otherwise."""

    mediation_max_amount: Amount
    """Debts up to this amount with a clean history go first to pre-litigation mediation (诉前调解)."""
    mediation_max_broken_agreements: int = Field(ge=0)
    """Most broken agreements a borrower may have and still be sent to mediation."""
    asset_preservation_min_amount: Amount
    """Debts from this amount go to asset preservation (财产保全); above ``mediation_max_amount``."""

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> LegalPolicy:
        if self.mediation_max_amount >= self.asset_preservation_min_amount:
            raise ValueError("mediation_max_amount must be below asset_preservation_min_amount")
        return self


class RenegotiationPolicy(_PolicyModel):
    max_per_agreement: int = Field(ge=1)
    """Renegotiations one agreement may have within ``window_months``."""
    window_months: int = Field(ge=1)
    """At most ``max_per_agreement`` renegotiations in this many months, so a
    borrower cannot stall legal referral forever with new requests."""


class ContactParty(StrEnum):
    BORROWER = "borrower"
    GUARANTOR = "guarantor"


class ContactPolicy(_PolicyModel):
    max_attempts: int = Field(ge=1)
    """Contact attempts allowed per debt within ``window_days`` (cf. Regulation F: 7 in 7 days)."""
    window_days: int = Field(ge=1)
    """The rolling window, in days, the attempts are counted over."""
    earliest: time
    """Earliest local time of a contact (e.g. 08:00:00)."""
    latest: time
    """Latest local time of a contact (e.g. 21:00:00); after ``earliest``."""
    allowed_parties: tuple[ContactParty, ...]
    """Whom the lender may contact: the borrower and a guarantor, never third parties."""

    @model_validator(mode="after")
    def _window(self) -> ContactPolicy:
        if self.earliest >= self.latest:
            raise ValueError("contact window: earliest must be before latest")
        if not self.allowed_parties:
            raise ValueError("at least one contact party must be allowed")
        return self


class RepresentativeKind(StrEnum):
    LAWYER = "lawyer"
    DEBT_ADVISER = "debt_adviser"
    FAMILY_MEMBER = "family_member"
    OTHER = "other"


class RepresentativePolicy(_PolicyModel):
    """Whom a borrower may authorise to act and be contacted for them, and for how long.

    An authorisation is written and dated: it ends at most ``max_days`` after the business date
    it is recorded on, so a forgotten one lapses instead of diverting the lender's contact
    forever (a borrower renews it with a new document).
    """

    max_days: int = Field(default=365, ge=1, le=3650)
    """Longest an authorisation may run, in days from the business date it is recorded on."""
    allowed_kinds: tuple[RepresentativeKind, ...] = tuple(RepresentativeKind)
    """The kinds of representative a borrower may authorise."""

    @model_validator(mode="after")
    def _kinds(self) -> RepresentativePolicy:
        if not self.allowed_kinds:
            raise ValueError("allowed_kinds: at least one kind of representative must be allowed")
        return self


class RetentionPolicy(_PolicyModel):
    """How long a closed case's personal data and evidence documents are kept.

    A case closes when it is declined or its agreement completes; the years count on the
    lender's business date from that day. A case referred to legal is on legal hold: kept,
    whatever its age, while it is referred. What the statistics need (hardship, channel, DPD
    at first contact, dates, status, decisions) is kept; what identifies or describes the
    person (name, national id, phone, the story, the income and expenditure statement, contact
    notes, evidence files and their names) is erased.
    """

    personal_data_years: int = Field(ge=1, le=30)
    """E.g. 5: the PRC Anti-Money Laundering Law keeps customer identification records for five
    years after the business relationship ends; PIPL asks for no longer than necessary."""


# ---------------------------------------------------------------------------
# Early warning: the near-breach checkpoint of each instalment
# ---------------------------------------------------------------------------


class EarlyWarningPolicy(_PolicyModel):
    """A working-capital style breach rule applied before anything is missed: by the checkpoint
    of each instalment period (``checkpoint_days_before_due`` calendar days before its due date)
    at least ``min_paid_share`` of the instalment must be paid, or the agreement is *near
    breach* for it. The checkpoint counts calendar days back from the schedule's due date, so a
    lender can read it off the schedule. A policy without the section has no early warning."""

    enabled: bool = False
    """Whether near-breach checkpoints are watched."""
    checkpoint_days_before_due: int = Field(default=7, ge=0, le=31)
    """E.g. 7: the instalment due 31 March is checked at the close of 24 March."""
    min_paid_share: Share = Decimal("0.50")
    """E.g. 0.50: at least half the instalment (principal + interest + fee) paid by the checkpoint."""

    @model_validator(mode="after")
    def _share_positive(self) -> EarlyWarningPolicy:
        if self.enabled and self.min_paid_share <= 0:
            raise ValueError("early_warning.min_paid_share must be above 0 when early warning is enabled")
        return self


# ---------------------------------------------------------------------------
# Promise to pay (承诺还款): a short, dated promise of an amount
# ---------------------------------------------------------------------------


class PromisePolicy(_PolicyModel):
    """A promise to pay: an amount by a business date, recorded by an agent or the borrower on
    a monitored agreement, judged by the close of business from the payments received from the
    day it was made to its date. A policy without the section takes no promises.

    On the ladder: while a promise is open (``holds_escalation``) the ladder does not climb past
    the level the agreement is at (the missed instalments and DPD still count and it catches up,
    step by step, once the promise is over; a referral already due from a breach notice is not
    held: that is the dual-tracking guard's job); a broken promise on an agreement in arrears
    (``broken_escalates``) moves it at least one level up at the close of business that breaks
    it (further only if DPD asks), never past the breach notice (a referral keeps its own rules).
    ``max_days_ahead`` bounds both: no promise, and so no hold, lasts longer."""

    enabled: bool = False
    """Whether promises to pay are taken."""
    max_days_ahead: int = Field(default=14, ge=0, le=31)
    """Calendar days after the business date a promise may fall due (0: today only)."""
    max_open: int = Field(default=1, ge=1, le=3)
    """Open promises an agreement may have at once; one more is refused (409 promise_open)."""
    holds_escalation: bool = True
    """While a promise is open the ladder does not climb past its level."""
    broken_escalates: bool = True
    """A broken promise on an agreement in arrears moves it one level up."""


# ---------------------------------------------------------------------------
# Appeals (申诉 / 复议) of a decline
# ---------------------------------------------------------------------------


class AppealPolicy(_PolicyModel):
    """A declined borrower (or their representative) may ask for the decline to be reviewed by a
    supervisor other than the one who decided it. The window runs from the decision's business
    date, counted in ``calendar.units.appeal_window``; the decline states its last day. A policy
    without the section takes no appeals (and a decline states no appeal deadline)."""

    enabled: bool = False
    """Whether declines may be appealed."""
    window_days: int = Field(default=15, ge=1, le=90)
    """E.g. 15: a decline of Fri 6 Feb 2026 may be appealed through the 15th working day after it."""
    per_decision: int = Field(default=1, ge=1, le=3)
    """Appeals one decision may have; one more is refused (409 appeal_limit_reached)."""
    statement_min_chars: int = Field(default=20, ge=1, le=2000)
    """The borrower's grounds, in their own words: long enough to say what the decision got wrong."""
    statement_max_chars: int = Field(default=4000, ge=1, le=20000)
    """The grounds' longest length, in characters."""
    new_evidence_required: bool = True
    """An appeal names at least one piece of evidence the decision did not have."""
    max_evidence_items: int = Field(default=10, ge=1, le=50)
    """The most pieces of new evidence one appeal may name."""

    @model_validator(mode="after")
    def _statement_bounds(self) -> AppealPolicy:
        if self.statement_min_chars > self.statement_max_chars:
            raise ValueError("appeals.statement_min_chars must not exceed appeals.statement_max_chars")
        return self


# ---------------------------------------------------------------------------
# The borrower's one-time signing code
# ---------------------------------------------------------------------------


class SigningCodePolicy(_PolicyModel):
    """The one-time code that proves the borrower consented to the exact document they sign.

    These are security limits counted on the technical clock (minutes and seconds since the code
    was issued), not business dates: a code must die minutes after it was sent whatever the
    lender's business date says. The defaults follow common e-signature practice (a 6-digit
    code, 10 minutes, 5 tries: a guesser has 5 in 1,000,000)."""

    expiry_minutes: int = Field(default=10, ge=1, le=60)
    """Minutes a code stays valid after it was issued."""
    max_attempts: int = Field(default=5, ge=1, le=10)
    """Wrong entries that kill the code; the borrower asks for a new one."""
    resend_after_seconds: int = Field(default=60, ge=0, le=3600)
    """Least time between two codes for one agreement (an SMS costs money and annoys)."""
    max_per_day: int = Field(default=5, ge=1, le=50)
    """Codes for one agreement in any 24 hours, so the gateway cannot be used to flood a phone."""


# ---------------------------------------------------------------------------
# The working calendar
# ---------------------------------------------------------------------------


class HolidaySource(StrEnum):
    CN = "CN"
    """China's public holidays and make-up working days (State Council notices, via the
    ``chinese-calendar`` package)."""
    NONE = "none"
    """No public holidays: only the weekend (and the lender's closed days) close."""


class PeriodUnits(_PolicyModel):
    """Whether each period of the policy counts working or calendar days."""

    grace: DayUnit = DayUnit.WORKING
    """Grace exists so a payment delayed by a closed bank does not count as missed: 3 grace
    days after a due date before 春节 must not all fall inside the holiday."""
    evidence_deadline: DayUnit = DayUnit.CALENDAR
    """``working`` suits a lender whose borrowers get documents from employers, hospitals and
    courts that close on holidays; the demo's letters say "within 14 days" (calendar)."""
    offer_validity: DayUnit = DayUnit.CALENDAR
    """``working`` gives a borrower who needs the lender's staff (or a lawyer) to weigh an offer
    the same time whatever the season; the demo states 14 calendar days."""
    remedy: DayUnit = DayUnit.CALENDAR
    """A breach notice's remedy period is a notice period stated in days, counted as the
    notice says (calendar days, at least 14)."""
    appeal_window: DayUnit = DayUnit.WORKING
    """A borrower preparing an appeal gathers documents from offices that close on holidays: 15
    working days after a decline before 春节 are not eaten by the holiday."""


class CalendarPolicy(_PolicyModel):
    """The lender's working days; see ``forbear_shared.domain.working_days``."""

    holidays: HolidaySource
    """Whose public holidays close the lender: ``CN`` (State Council notices) or ``none``."""
    weekend: tuple[int, ...] = (6, 7)
    """Closed ISO weekdays (6 Saturday, 7 Sunday)."""
    closed_days: tuple[date, ...] = ()
    """The lender's own closed days (a systems migration weekend, a local holiday)."""
    extra_working_days: tuple[date, ...] = ()
    """Days the lender works although the calendar says closed."""
    published_years: tuple[int, ...] = ()
    """Years the lender publishes itself before the holiday package knows them: their
    holidays go in ``closed_days`` and their make-up days in ``extra_working_days``."""
    due_date_roll: DueDateRoll = DueDateRoll.FOLLOWING
    """Where a due date on a closed day moves: following (顺延), preceding, modified_following, none."""
    units: PeriodUnits = PeriodUnits()
    official: OfficialHolidays | None = Field(default=None, exclude=True)
    """The official table, attached by ``policy_loader.load_policy`` (never in the file)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True, use_attribute_docstrings=True)

    @model_validator(mode="after")
    def _consistent(self) -> CalendarPolicy:
        if len(set(self.weekend)) != len(self.weekend) or any(not 1 <= d <= 7 for d in self.weekend):
            raise ValueError("calendar.weekend: ISO weekdays 1-7 (6 Saturday, 7 Sunday), each once")
        both = sorted(set(self.closed_days) & set(self.extra_working_days))
        if both:
            raise ValueError(f"calendar.closed_days and calendar.extra_working_days both list {both[0].isoformat()}")
        if self.holidays is HolidaySource.NONE and self.published_years:
            raise ValueError("calendar.published_years needs holidays = \"CN\" (weekends-only knows every year)")
        return self

    @cached_property
    def working_calendar(self) -> WorkingCalendar:
        """The calendar this section describes (built once per policy)."""
        official = None
        if self.holidays is HolidaySource.CN:
            if self.official is None:
                raise PolicyError("calendar.holidays = \"CN\" needs the official holiday table: load the policy "
                                  "with forbear_shared.policy_loader.load_policy")
            official = self.official
        return WorkingCalendar.of(official, weekend=self.weekend, closed_days=self.closed_days,
                                  extra_working_days=self.extra_working_days, extra_years=self.published_years)

    def with_official(self, official: OfficialHolidays) -> CalendarPolicy:
        # validated anew, not model_copy: a copy would carry the cached calendar along
        return CalendarPolicy.model_validate({**{k: getattr(self, k) for k in type(self).model_fields},
                                              "official": official})


# ---------------------------------------------------------------------------
# Champion / challenger
# ---------------------------------------------------------------------------

#: the sections a challenger may change: how a case is evaluated and what it is offered.
#: Everything else (contact limits, dual tracking, the escalation ladder and legal referral,
#: representatives, the borrower's rights and appeals, retention, the calendar) is a guard or
#: the lender's book itself, and is the champion's on every arm.
CHALLENGER_SECTIONS = ("evaluation", "restructuring", "schedules", "reamortisation", "reageing")
#: keys inside those sections that stay the champion's: declining a wilful defaulter is a guard
CHALLENGER_FIXED = {"evaluation": ("wilful_default",)}
Arm = Literal["champion", "challenger"]


def _merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


class ChallengerPolicy(_PolicyModel):
    """A second policy tried live beside this one (the champion) on a share of new cases.

    A case's arm follows from its id alone (``Policy.arm_of``): the first 8 bytes of the
    SHA-256 of the case id, read as a number below 2^64, put the case in the challenger when
    they are below ``share`` x 2^64. Every service, every replay and every rebuild puts the
    same case in the same arm, and the decision records the arm's version.

    The challenger is the champion with some of its ``evaluation``, ``restructuring``,
    ``schedules``, ``reamortisation`` and ``reageing`` values changed, written as those
    sections are (``[challenger.restructuring]`` ``rate_floor = "0.015"``); a value not named
    is the champion's. Any other section, and ``evaluation.wilful_default``, is refused: the
    guards apply to every arm and a challenger cannot switch them off."""

    version: str = Field(min_length=1)
    """The challenger's own version, recorded on its decisions and events; not the champion's."""
    share: Share
    """Fraction of new cases the challenger decides, above 0 and below 1 (``"0.20"``: one in five)."""
    evaluation: dict[str, Any] = Field(default_factory=dict)
    """Changed ``evaluation`` values (not ``wilful_default``), e.g. ``dti_ceiling = "0.35"``."""
    restructuring: dict[str, Any] = Field(default_factory=dict)
    """Changed ``restructuring`` values, e.g. ``rate_floor = "0.015"``."""
    schedules: dict[str, Any] = Field(default_factory=dict)
    """Changed ``schedules`` values (the frequencies and methods a plan may use)."""
    reamortisation: dict[str, Any] = Field(default_factory=dict)
    """Changed ``reamortisation`` values."""
    reageing: dict[str, Any] = Field(default_factory=dict)
    """Changed ``reageing`` values."""

    @model_validator(mode="before")
    @classmethod
    def _only_offer_sections(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for key in data:
                if key not in ("version", "share", *CHALLENGER_SECTIONS):
                    raise ValueError(
                        f"challenger.{key}: a challenger may change only {', '.join(CHALLENGER_SECTIONS)}; "
                        f"{key} is the champion's on every arm (guards cannot be switched off)")
            for section, fixed in CHALLENGER_FIXED.items():
                changes = data.get(section)
                for key in fixed:
                    if isinstance(changes, Mapping) and key in changes:
                        raise ValueError(f"challenger.{section}.{key}: a guard, the champion's on every arm")
        return data

    @model_validator(mode="after")
    def _share_inside(self) -> ChallengerPolicy:
        if not 0 < self.share < 1:
            raise ValueError("challenger.share must be above 0 and below 1 (the champion keeps the rest)")
        return self

    def changes(self) -> dict[str, dict[str, Any]]:
        return {name: getattr(self, name) for name in CHALLENGER_SECTIONS if getattr(self, name)}


# ---------------------------------------------------------------------------
# The policy
# ---------------------------------------------------------------------------


class Policy(_PolicyModel):
    version: str = Field(min_length=1)
    """Recorded on every decision, e.g. ``demo-lender-2026.1``."""
    lender: str = Field(min_length=1)
    """The lender's name, as the agreement documents print it."""
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    """ISO 4217 code of the policy's amounts (``CNY``); one of ``loans.currencies``."""
    timezone: str = Field(min_length=1)
    """The lender's time zone: business dates and contact hours are local to it."""
    delinquency: DelinquencyPolicy
    allocation: AllocationPolicy
    payments: PaymentEntryPolicy
    loans: LoanPolicy
    restructuring: RestructuringPolicy
    evaluation: EvaluationPolicy
    offers: OfferPolicy
    evidence: EvidencePolicy
    escalation: EscalationPolicy
    legal: LegalPolicy
    renegotiation: RenegotiationPolicy
    contact: ContactPolicy
    retention: RetentionPolicy
    representatives: RepresentativePolicy = RepresentativePolicy()
    schedules: SchedulePolicy = SchedulePolicy()
    reamortisation: ReamortisationPolicy = ReamortisationPolicy()
    reageing: ReageingPolicy = ReageingPolicy()
    early_warning: EarlyWarningPolicy = EarlyWarningPolicy()
    promises: PromisePolicy = PromisePolicy()
    rights: RightsPolicy = RightsPolicy()
    appeals: AppealPolicy = AppealPolicy()
    signing_code: SigningCodePolicy = Field(default_factory=SigningCodePolicy)
    calendar: CalendarPolicy
    challenger: ChallengerPolicy | None = None
    """A challenger run live on a share of new cases (fields below); none: every case is the champion's."""

    @model_validator(mode="after")
    def _currency_of_loans(self) -> Policy:
        if self.currency not in self.loans.currencies:
            raise ValueError(f"the policy currency {self.currency} must be one of loans.currencies")
        return self

    @model_validator(mode="after")
    def _challenger_valid(self) -> Policy:
        if self.challenger is not None:
            if self.challenger.version == self.version:
                raise ValueError("challenger.version must differ from the champion's version")
            self._challenger()  # its sections validated now, named under challenger.
        return self

    @cached_property
    def challenger_policy(self) -> Policy | None:
        """The challenger as a whole policy: the champion with the challenger's changes, its own
        version, and no challenger of its own."""
        return self._challenger()

    def _challenger(self) -> Policy | None:
        # not cached here: a copy of the champion (``with_official_holidays``) builds its own
        if self.challenger is None:
            return None
        update: dict[str, Any] = {"version": self.challenger.version, "challenger": None}
        for name, changes in self.challenger.changes().items():
            section = getattr(self, name)
            try:
                update[name] = type(section).model_validate(_merged(section.model_dump(), changes))
            except ValidationError as exc:
                problems = "; ".join(
                    f"challenger.{name}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"]
                    else f"challenger.{name}: {e['msg']}" for e in exc.errors())
                raise ValueError(problems) from None
        return self.model_copy(update=update)

    def arm_of(self, case_id: str) -> Arm:
        """The arm a case belongs to, from its id alone (``ChallengerPolicy``)."""
        if self.challenger is None:
            return "champion"
        point = int.from_bytes(hashlib.sha256(case_id.encode()).digest()[:8], "big")
        return "challenger" if point < self.challenger.share * 2**64 else "champion"

    def for_case(self, case_id: str) -> Policy:
        """The policy that evaluates ``case_id``: the challenger's for a case in its arm."""
        challenger = self.challenger_policy
        return challenger if challenger is not None and self.arm_of(case_id) == "challenger" else self

    def arms(self) -> list[tuple[Arm, Decimal, Policy]]:
        """Each arm with its share of new cases and its policy, the champion first."""
        challenger = self.challenger_policy
        if self.challenger is None or challenger is None:
            return [("champion", Decimal(1), self)]
        return [("champion", 1 - self.challenger.share, self), ("challenger", self.challenger.share, challenger)]

    def money(self, amount: Decimal) -> Money:
        """A policy amount as Money in the policy currency."""
        return Money(amount, self.currency)

    @property
    def tolerance(self) -> Money:
        return self.money(self.allocation.tolerance)

    @property
    def working_calendar(self) -> WorkingCalendar:
        """The lender's working days (``calendar`` section)."""
        return self.calendar.working_calendar

    def with_official_holidays(self, official: OfficialHolidays) -> Policy:
        """This policy with its calendar's official holiday table attached (the loader's job)."""
        return self.model_copy(update={"calendar": self.calendar.with_official(official)})


def parse_policy(data: Mapping[str, Any]) -> Policy:
    """Validate a policy mapping; errors name the offending field."""
    try:
        return Policy.model_validate(dict(data))
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        raise PolicyError(f"invalid policy: {exc}") from exc


def parse_policy_toml(text: str) -> Policy:
    """Validate policy TOML text (already read; reading is the loader's job)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"policy is not valid TOML: {exc}") from exc
    return parse_policy(data)
