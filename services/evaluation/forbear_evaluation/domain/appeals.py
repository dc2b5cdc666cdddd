"""Appeals (申诉 / 复议) of a decline: who may ask for a decline to be reviewed, until when, with
what, and who may review it.

- **Who appeals**: the borrower of the case (themselves, or an agent recording what the borrower
  says on the phone or at a branch), or a representative the borrower authorised whose scope
  covers negotiation and who is active on the day (``forbear_shared.domain.representatives``).
  Anyone else's appeal is refused (a borrower never learns that someone else's case exists).
- **What**: the case's latest decision, and only a decline: a later decision has replaced an
  earlier one, and an approval has nothing to appeal.
- **Until when**: ``appeals.window_days`` after the decision's business date, counted in
  ``calendar.units.appeal_window`` (working days in the demo, so 春节 does not eat the window);
  the last day is stated on the decline itself.
- **How often**: ``appeals.per_decision`` appeals per decision (1 in the demo): a second one is a
  conflict, not a new review.
- **With what**: a statement of grounds in the borrower's words (``statement_min_chars`` to
  ``statement_max_chars``) and, when the policy asks, at least one piece of new evidence.
- **Who reviews**: a supervisor who did not make the decision. A decline by the rules has no
  human decider: any supervisor reviews it. The reviewer upholds it (the decline stands) or
  overturns it (the decline is set aside and the case goes back to the borrower to bring the
  appeal's evidence and be evaluated again), always with a written reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from forbear_shared.domain.policy import Policy
from forbear_shared.domain.representatives import Representative
from forbear_shared.errors import Conflict, Forbidden, NotFound, Unprocessable


class AppealStatus(StrEnum):
    PENDING = "pending"
    UPHELD = "upheld"
    OVERTURNED = "overturned"


class AppealOutcome(StrEnum):
    UPHOLD = "uphold"
    OVERTURN = "overturn"

    @property
    def status(self) -> AppealStatus:
        return AppealStatus.UPHELD if self is AppealOutcome.UPHOLD else AppealStatus.OVERTURNED


class Appellant(StrEnum):
    BORROWER = "borrower"
    REPRESENTATIVE = "representative"


@dataclass(frozen=True, slots=True)
class DecisionFacts:
    """What the rules need to know about the decision appealed."""

    decision_id: str
    case_id: str
    borrower_id: str
    outcome: str
    decided_on: date
    #: the supervisor who made it; None when the rules decided
    decided_by_subject: str | None
    #: is it the case's latest decision (an earlier one was replaced)?
    latest: bool


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks: a borrower (their own ``borrower_id``) or a member of staff."""

    role: str
    borrower_id: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role != "borrower"


@dataclass(frozen=True, slots=True)
class NewEvidence:
    document_type: str
    description: str


def appeal_deadline(decided_on: date, policy: Policy) -> date | None:
    """The last day a decline of ``decided_on`` may be appealed (None: the policy takes no appeals)."""
    if not policy.appeals.enabled:
        return None
    unit = policy.calendar.units.appeal_window
    return policy.working_calendar.add(decided_on, policy.appeals.window_days, unit)


def check_appellant(decision: DecisionFacts, caller: Caller, representative_id: str | None,
                    representatives: Sequence[Representative], today: date) -> Appellant:
    """Is this appeal the borrower's own (or their representative's)? Refused otherwise."""
    if not caller.is_staff and caller.borrower_id != decision.borrower_id:
        raise NotFound("decision", decision.decision_id)
    if representative_id is None:
        return Appellant.BORROWER
    if not caller.is_staff:
        raise Forbidden("representative_needs_staff",
                        "a representative's appeal is recorded by the lender's staff, not from the borrower's login")
    found = next((r for r in representatives if r.representative_id == representative_id), None)
    if found is None or not found.negotiates_on(today):
        raise Forbidden("representative_not_authorised",
                        f"representative {representative_id} is not authorised to negotiate this case on {today}")
    return Appellant.REPRESENTATIVE


def check_appealable(decision: DecisionFacts, *, appeals_so_far: int, today: date, policy: Policy) -> date:
    """May the decision be appealed on ``today``? Returns the last day of the window."""
    deadline = appeal_deadline(decision.decided_on, policy)
    if deadline is None:
        raise Conflict("appeals_not_offered", "the lender's policy takes no appeals")
    if decision.outcome != "decline":
        raise Conflict("not_declined", f"decision {decision.decision_id} is {decision.outcome}: only a decline "
                                       "may be appealed")
    if not decision.latest:
        raise Conflict("decision_superseded", f"decision {decision.decision_id} was replaced by a later decision")
    if today > deadline:
        raise Conflict("appeal_window_closed", f"the decline of {decision.decided_on} could be appealed until "
                                               f"{deadline}; the business date is {today}")
    if appeals_so_far >= policy.appeals.per_decision:
        raise Conflict("appeal_limit_reached", f"decision {decision.decision_id} was already appealed "
                                               f"({appeals_so_far} of {policy.appeals.per_decision})")
    return deadline


def written_statement(statement: str, evidence: Sequence[NewEvidence], policy: Policy) -> str:
    """The grounds as recorded (trimmed); refused when too short, too long, or without new evidence."""
    rules = policy.appeals
    written = statement.strip()
    if len(written) < rules.statement_min_chars:
        raise Unprocessable("statement_too_short",
                            f"an appeal states its grounds in at least {rules.statement_min_chars} characters")
    if len(written) > rules.statement_max_chars:
        raise Unprocessable("statement_too_long",
                            f"an appeal's statement holds at most {rules.statement_max_chars} characters")
    if rules.new_evidence_required and not evidence:
        raise Unprocessable("new_evidence_required", "an appeal names at least one piece of new evidence")
    if len(evidence) > rules.max_evidence_items:
        raise Unprocessable("too_much_evidence", f"an appeal names at most {rules.max_evidence_items} pieces of evidence")
    if any(not e.description.strip() for e in evidence):
        raise Unprocessable("evidence_description_required", "each piece of new evidence says what it is")
    return written


def check_reviewer(*, status: str, appeal_id: str, decided_by_subject: str | None, reviewer_subject: str,
                   reviewer_role: str) -> None:
    """A pending appeal is decided once, by a supervisor who did not make the decision appealed."""
    if reviewer_role != "supervisor":
        raise Forbidden("supervisor_required", "an appeal is reviewed by a supervisor")
    if status != AppealStatus.PENDING:
        raise Conflict(f"appeal_{status}", f"appeal {appeal_id} is already {status}")
    if decided_by_subject is not None and decided_by_subject == reviewer_subject:
        raise Forbidden("same_supervisor", "the supervisor who made the decision may not review its appeal")
