"""The escalation ladder of a signed agreement, as an explicit state machine.

    current -> reminder -> warning -> breach_notice -> legal_referral (final)
       ^__________|___________|___________|   (cure: all arrears paid)
    any non-final stage -> completed (final, all instalments paid)

Why so strict: every step is a notice the borrower receives and a record a
court may read. So the ladder never skips a step silently (a sweep that
finds DPD jumped from 0 to 20 emits reminder, warning and breach notice in
that order), never moves backwards except by a cure (paying *all* arrears
before referral), and a referral or completion is final.

The thresholds come from the policy (``escalation``): reminder at DPD 1,
warning at DPD 7, breach notice at DPD 15 with at least 14 days to remedy,
referral when the remedy period has passed or when 3 missed instalments
are unpaid (the policy's "or": a borrower who has stopped paying altogether
does not hold off referral by a fresh remedy period). A referral is held,
not made, while the dual-tracking guard reports a pending negotiation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from forbear_shared.domain.arrears import LoanLedger, arrears_as_of
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import LegalRoute, Policy

from forbear_monitoring.domain.missed import outstanding_missed_count
from forbear_monitoring.domain.standing import outstanding_balance


class Stage(StrEnum):
    CURRENT = "current"
    REMINDER = "reminder"
    WARNING = "warning"
    BREACH_NOTICE = "breach_notice"
    LEGAL_REFERRAL = "legal_referral"
    COMPLETED = "completed"


LADDER: tuple[Stage, ...] = (Stage.CURRENT, Stage.REMINDER, Stage.WARNING, Stage.BREACH_NOTICE, Stage.LEGAL_REFERRAL)
TERMINAL: frozenset[Stage] = frozenset({Stage.LEGAL_REFERRAL, Stage.COMPLETED})

ALLOWED: dict[Stage, frozenset[Stage]] = {
    Stage.CURRENT: frozenset({Stage.REMINDER, Stage.COMPLETED}),
    Stage.REMINDER: frozenset({Stage.WARNING, Stage.CURRENT, Stage.COMPLETED}),
    Stage.WARNING: frozenset({Stage.BREACH_NOTICE, Stage.CURRENT, Stage.COMPLETED}),
    Stage.BREACH_NOTICE: frozenset({Stage.LEGAL_REFERRAL, Stage.CURRENT, Stage.COMPLETED}),
    Stage.LEGAL_REFERRAL: frozenset(),
    Stage.COMPLETED: frozenset(),
}
"""Every legal transition; anything else raises ``EscalationError``."""


class EscalationError(Exception):
    """A refused transition; ``reason`` is machine-readable (the API maps it to 409)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class EscalationState:
    stage: Stage
    since: date
    """Business date the agreement entered ``stage``."""
    remedy_deadline: date | None = None
    """Last day to remedy a breach notice; set only in ``breach_notice``."""

    @property
    def is_final(self) -> bool:
        return self.stage in TERMINAL


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """One transition; each becomes an event (and, for notices, a letter)."""

    from_stage: Stage
    to_stage: Stage
    on: date
    reason: str
    remedy_deadline: date | None = None


@dataclass(frozen=True, slots=True)
class EscalationOutcome:
    state: EscalationState
    steps: tuple[EscalationStep, ...]
    referral_held: str | None = None
    """Why a due referral was not made (dual-tracking guard), if it was held."""


def remedy_deadline(notice_on: date, policy: Policy) -> date:
    """The last day to remedy a breach notice served on ``notice_on``: ``remedy_days`` in the
    policy's unit (``calendar.units.remedy``)."""
    unit = policy.calendar.units.remedy
    return policy.working_calendar.add(notice_on, policy.escalation.remedy_days, unit)


class EscalationLadder:
    """The ladder configured by a policy; stateless, states are values."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy
        self._rules = policy.escalation

    @staticmethod
    def start(on: date) -> EscalationState:
        """A newly activated agreement is current."""
        return EscalationState(Stage.CURRENT, on)

    def transition(self, state: EscalationState, to: Stage, *, on: date, reason: str) -> tuple[EscalationState, EscalationStep]:
        """Move one step, if the ladder allows it; the single door every move goes through."""
        if state.is_final:
            raise EscalationError("terminal_state", f"{state.stage} is final; cannot move to {to}")
        if to not in ALLOWED[state.stage]:
            raise EscalationError("illegal_transition", f"{state.stage} -> {to} is not on the ladder")
        if on < state.since:
            raise EscalationError("date_in_past", f"{on} is before {state.since}, when {state.stage} began")
        deadline = remedy_deadline(on, self._policy) if to is Stage.BREACH_NOTICE else None
        step = EscalationStep(state.stage, to, on, reason, deadline)
        return EscalationState(to, on, deadline), step

    def _dpd_target(self, dpd: int) -> Stage:
        if dpd >= self._rules.breach_notice_dpd:
            return Stage.BREACH_NOTICE
        if dpd >= self._rules.warning_dpd:
            return Stage.WARNING
        if dpd >= self._rules.reminder_dpd:
            return Stage.REMINDER
        return Stage.CURRENT

    def advance(
        self,
        state: EscalationState,
        *,
        as_of: date,
        dpd: int,
        missed_instalments: int,
        referral_block: str | None = None,
        promise_broken: bool = False,
        promise_open: bool = False,
    ) -> EscalationOutcome:
        """Escalate as far as DPD and missed instalments require on ``as_of``.

        ``missed_instalments`` is the count of missed instalments still
        unpaid. ``referral_block`` is the dual-tracking guard's reason when a
        negotiation is pending; a due referral is then held (reported, not
        made). Lower DPD never de-escalates: only ``cure`` does.

        Promises to pay (policy ``promises``): ``promise_broken`` (a promise
        broken at this close of business, the agreement in arrears) moves it
        one level beyond where it is, at least, never past the breach notice;
        ``promise_open`` (a promise still open) holds the ladder at its level.
        Neither makes or holds a referral: at a breach notice the remedy and
        missed-instalment rules apply as they stand.
        """
        if state.is_final:
            return EscalationOutcome(state, ())
        if dpd < 0 or missed_instalments < 0:
            raise EscalationError("invalid_input", "DPD and missed instalments cannot be negative")
        referral_by_count = missed_instalments >= self._rules.referral_missed_instalments
        target = self._dpd_target(dpd)
        if referral_by_count:
            target = Stage.BREACH_NOTICE  # the ladder passes through every notice on the way
        current_index = LADDER.index(state.stage)
        promised = self._policy.promises
        by_promise = (promise_broken and promised.broken_escalates and state.stage is not Stage.BREACH_NOTICE
                      and LADDER.index(target) <= current_index)
        if by_promise:
            target = LADDER[current_index + 1]
        elif promise_open and promised.holds_escalation and LADDER.index(target) > current_index:
            target = state.stage  # held at its level; caught up step by step once the promise is over
        steps: list[EscalationStep] = []
        for stage in LADDER[current_index + 1 : LADDER.index(target) + 1]:
            reason = f"missed_instalments_{missed_instalments}" if referral_by_count and dpd < self._threshold(stage) else f"dpd_{dpd}"
            if by_promise:
                reason = "promise_broken"
            state, step = self.transition(state, stage, on=as_of, reason=reason)
            steps.append(step)

        held: str | None = None
        if state.stage is Stage.BREACH_NOTICE:
            assert state.remedy_deadline is not None
            remedy_passed = as_of > state.remedy_deadline
            if remedy_passed or referral_by_count:
                reason = "missed_instalments" if referral_by_count else "remedy_period_expired"
                if referral_block is not None:
                    held = referral_block
                else:
                    state, step = self.transition(state, Stage.LEGAL_REFERRAL, on=as_of, reason=reason)
                    steps.append(step)
        return EscalationOutcome(state, tuple(steps), held)

    def _threshold(self, stage: Stage) -> int:
        return {
            Stage.REMINDER: self._rules.reminder_dpd,
            Stage.WARNING: self._rules.warning_dpd,
            Stage.BREACH_NOTICE: self._rules.breach_notice_dpd,
        }.get(stage, 0)

    def cure(self, state: EscalationState, *, on: date, arrears: Money) -> tuple[EscalationState, EscalationStep]:
        """Back to current, only when every arrear is paid (within tolerance)
        and only before referral: a cure is what the warning letters ask for."""
        if state.is_final:
            raise EscalationError("terminal_state", f"{state.stage} is final; a cure is no longer possible")
        if state.stage is Stage.CURRENT:
            raise EscalationError("not_delinquent", "a current agreement has nothing to cure")
        if arrears > self._policy.tolerance:
            raise EscalationError("arrears_outstanding", f"{arrears.to_str()} of arrears is still unpaid")
        return self.transition(state, Stage.CURRENT, on=on, reason="arrears_paid")

    def complete(self, state: EscalationState, *, on: date, all_instalments_paid: bool) -> tuple[EscalationState, EscalationStep]:
        """Completed when every instalment is paid: the good record under the plan."""
        if not all_instalments_paid:
            raise EscalationError("instalments_outstanding", "an agreement completes only when every instalment is paid")
        return self.transition(state, Stage.COMPLETED, on=on, reason="all_instalments_paid")


@dataclass(frozen=True, slots=True)
class LegalRouteChoice:
    route: LegalRoute
    reason: str


def choose_legal_route(amount: Money, *, broken_agreements: int, policy: Policy) -> LegalRouteChoice:
    """Pick the legal route for a referral by amount and history (policy ``legal``).

    Large debts go to asset preservation (财产保全) so assets cannot be moved
    while the case runs; small debts with a clean history go first to
    pre-litigation mediation (诉前调解), which courts encourage and which is
    cheaper for both sides; everything else is a lawsuit.
    """
    legal = policy.legal
    if broken_agreements < 0:
        raise ValueError("broken_agreements cannot be negative")
    if amount >= policy.money(legal.asset_preservation_min_amount):
        return LegalRouteChoice(LegalRoute.ASSET_PRESERVATION, "amount_at_or_above_asset_preservation_threshold")
    if amount <= policy.money(legal.mediation_max_amount) and broken_agreements <= legal.mediation_max_broken_agreements:
        return LegalRouteChoice(LegalRoute.PRE_LITIGATION_MEDIATION, "small_amount_clean_history")
    if amount <= policy.money(legal.mediation_max_amount):
        return LegalRouteChoice(LegalRoute.LAWSUIT, "broken_agreements_exceed_mediation_limit")
    return LegalRouteChoice(LegalRoute.LAWSUIT, "amount_above_mediation_threshold")


# -- one agreement's review: completion, cure, or a step up the ladder ---------------------------


class ReviewOutcome(StrEnum):
    UNCHANGED = "unchanged"
    COMPLETED = "completed"
    CURED = "cured"
    ESCALATED = "escalated"


@dataclass(frozen=True, slots=True)
class Review:
    """What one review of an agreement decided; the service layer records and announces it."""

    outcome: ReviewOutcome
    state: EscalationState
    steps: tuple[EscalationStep, ...] = ()
    #: the arrears the escalation steps and their notices state
    days_past_due: int = 0
    missed_instalments: int = 0
    amount_overdue: Money | None = None
    #: the legal route of a referral made by this review, and the debt it is chosen by
    referral: LegalRouteChoice | None = None
    outstanding: Money | None = None
    #: a due referral the dual-tracking guard held (its reasons), and the agreement's
    #: referral-block mark after the review (``announce_block``: a blocking episode begins)
    referral_held: str | None = None
    blocked_since: date | None = None
    announce_block: bool = False

    @property
    def referred(self) -> bool:
        return self.referral is not None


def review(ladder: EscalationLadder, state: EscalationState, ledger: LoanLedger, *, as_of: date, policy: Policy,
           escalate: bool, referral_block: str | None, blocked_since: date | None,
           broken_agreements: int, promise_broken: bool = False, promise_open: bool = False) -> Review:
    """Where an active agreement goes next on ``as_of``.

    Paid in full: completed. Not current and every arrear paid (within tolerance): cured,
    which also ends a referral-blocking episode. Otherwise, when ``escalate`` (close of
    business; a payment never escalates), up the ladder by DPD and missed instalments, a due
    referral held while ``referral_block`` names a pending negotiation, and the legal route
    of a referral chosen by the whole debt and the borrower's ``broken_agreements``; a promise
    to pay broken at this close of business or still open moves or holds the ladder
    (``EscalationLadder.advance``).
    """
    if ledger.is_fully_paid:
        done, step = ladder.complete(state, on=as_of, all_instalments_paid=True)
        return Review(ReviewOutcome.COMPLETED, done, (step,), blocked_since=blocked_since)
    arrears = arrears_as_of(ledger, as_of=as_of, policy=policy)
    if state.stage is not Stage.CURRENT and arrears.total <= policy.tolerance:
        cured, step = ladder.cure(state, on=as_of, arrears=arrears.total)
        return Review(ReviewOutcome.CURED, cured, (step,), blocked_since=None)
    if not escalate:
        return Review(ReviewOutcome.UNCHANGED, state, blocked_since=blocked_since)
    missed = outstanding_missed_count(ledger, as_of=as_of, policy=policy)
    moved = ladder.advance(state, as_of=as_of, dpd=arrears.days_past_due, missed_instalments=missed,
                           referral_block=referral_block, promise_broken=promise_broken, promise_open=promise_open)
    referral = outstanding = None
    if moved.state.stage is Stage.LEGAL_REFERRAL:
        outstanding = outstanding_balance(ledger, as_of=as_of, policy=policy)
        referral = choose_legal_route(outstanding, broken_agreements=broken_agreements, policy=policy)
    blocked, announce = blocked_since, False
    if moved.referral_held is not None:
        if blocked_since is None:  # once per blocking episode
            blocked, announce = as_of, True
    elif blocked_since is not None:
        blocked = None  # the guard cleared (a referral clears the mark with the agreement's closing)
    return Review(ReviewOutcome.ESCALATED if moved.steps else ReviewOutcome.UNCHANGED, moved.state, moved.steps,
                  arrears.days_past_due, missed, arrears.total, referral, outstanding, moved.referral_held,
                  blocked, announce)
