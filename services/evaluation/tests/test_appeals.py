"""The rules of an appeal (pure): the window over 春节 2026, who may appeal, once, with what, and
who may review it."""

from __future__ import annotations

import datetime as dt

import pytest
from forbear_evaluation.domain.appeals import (
    Appellant,
    Caller,
    DecisionFacts,
    NewEvidence,
    appeal_deadline,
    check_appealable,
    check_appellant,
    check_reviewer,
    written_statement,
)
from forbear_shared.domain.policy import Policy, RepresentativeKind
from forbear_shared.domain.representatives import Representative, RepresentativeScope
from forbear_shared.domain.working_days import DayUnit
from forbear_shared.errors import Conflict, Forbidden, NotFound, Unprocessable

DECIDED = dt.date(2026, 2, 10)  # Tue 10 Feb 2026, five days before 春节
# 15 working days after it (the day itself not counted), read off the State Council's 2026 notice:
#   Wed 11, Thu 12, Fri 13, Sat 14 (make-up working day)           -> 4
#   Sun 15 .. Mon 23 Feb: the Spring Festival holiday, none counts
#   Tue 24, Wed 25, Thu 26, Fri 27, Sat 28 (make-up working day)   -> 9
#   Mon 2 .. Fri 6 Mar                                             -> 14
#   Mon 9 Mar                                                      -> 15
DEADLINE = dt.date(2026, 3, 9)
# counted in calendar days the same 15 would end on Wed 25 Feb, two days after the holiday
CALENDAR_DEADLINE = dt.date(2026, 2, 25)

RULES_DECLINE = DecisionFacts("dec-1", "C-1", "B-1", "decline", DECIDED, None, latest=True)
SUPERVISOR_DECLINE = DecisionFacts("dec-2", "C-1", "B-1", "decline", DECIDED, "supervisor-a", latest=True)
GROUNDS = "The hospital discharged me only on 2 February; the diagnosis was not in the file."
DIAGNOSIS = (NewEvidence("hospital_diagnosis", "diagnosis of 28 January"),)


def _rep(scopes: set[RepresentativeScope], **changes: object) -> Representative:
    base: dict[str, object] = {"representative_id": "rep-1", "kind": RepresentativeKind.LAWYER,
                               "scopes": frozenset(scopes), "starts_on": dt.date(2026, 2, 1),
                               "ends_on": dt.date(2026, 6, 30)}
    return Representative(**{**base, **changes})  # type: ignore[arg-type]


def test_the_window_counts_15_working_days_across_the_spring_festival(policy: Policy) -> None:
    assert policy.calendar.units.appeal_window is DayUnit.WORKING
    assert appeal_deadline(DECIDED, policy) == DEADLINE


def test_a_lender_counting_calendar_days_closes_the_window_two_days_after_the_holiday(policy: Policy) -> None:
    calendar_days = policy.model_copy(update={"calendar": policy.calendar.model_copy(
        update={"units": policy.calendar.units.model_copy(update={"appeal_window": DayUnit.CALENDAR})})})
    assert appeal_deadline(DECIDED, calendar_days) == CALENDAR_DEADLINE


def test_an_appeal_on_the_last_day_is_in_time_and_the_day_after_is_late(policy: Policy) -> None:
    assert check_appealable(RULES_DECLINE, appeals_so_far=0, today=DEADLINE, policy=policy) == DEADLINE
    with pytest.raises(Conflict) as late:
        check_appealable(RULES_DECLINE, appeals_so_far=0, today=dt.date(2026, 3, 10), policy=policy)
    assert late.value.reason == "appeal_window_closed"
    assert "until 2026-03-09" in late.value.message


def test_a_decision_is_appealed_once(policy: Policy) -> None:
    with pytest.raises(Conflict) as twice:
        check_appealable(RULES_DECLINE, appeals_so_far=1, today=dt.date(2026, 2, 11), policy=policy)
    assert twice.value.reason == "appeal_limit_reached"


@pytest.mark.parametrize("outcome", ["approve", "needs_supervisor", "need_more_evidence"])
def test_only_a_decline_is_appealed(policy: Policy, outcome: str) -> None:
    approved = DecisionFacts("dec-3", "C-1", "B-1", outcome, DECIDED, None, latest=True)
    with pytest.raises(Conflict) as refused:
        check_appealable(approved, appeals_so_far=0, today=DECIDED, policy=policy)
    assert refused.value.reason == "not_declined"


def test_a_decline_a_later_decision_replaced_is_not_appealed(policy: Policy) -> None:
    replaced = DecisionFacts("dec-1", "C-1", "B-1", "decline", DECIDED, None, latest=False)
    with pytest.raises(Conflict) as refused:
        check_appealable(replaced, appeals_so_far=0, today=DECIDED, policy=policy)
    assert refused.value.reason == "decision_superseded"


def test_a_lender_without_appeals_refuses_them_and_states_no_deadline(policy: Policy) -> None:
    without = policy.model_copy(update={"appeals": policy.appeals.model_copy(update={"enabled": False})})
    assert appeal_deadline(DECIDED, without) is None
    with pytest.raises(Conflict) as refused:
        check_appealable(RULES_DECLINE, appeals_so_far=0, today=DECIDED, policy=without)
    assert refused.value.reason == "appeals_not_offered"


def test_the_borrower_appeals_their_own_decline_and_no_one_elses() -> None:
    assert check_appellant(RULES_DECLINE, Caller("borrower", "B-1"), None, [], DECIDED) is Appellant.BORROWER
    assert check_appellant(RULES_DECLINE, Caller("agent"), None, [], DECIDED) is Appellant.BORROWER
    with pytest.raises(NotFound):  # someone else's case does not exist for this borrower
        check_appellant(RULES_DECLINE, Caller("borrower", "B-2"), None, [], DECIDED)


def test_a_representative_appeals_while_authorised_to_negotiate() -> None:
    negotiates = _rep({RepresentativeScope.NEGOTIATION})
    assert check_appellant(RULES_DECLINE, Caller("agent"), "rep-1", [negotiates], DECIDED) is Appellant.REPRESENTATIVE


@pytest.mark.parametrize("representative", [
    _rep({RepresentativeScope.COMMUNICATIONS}),                                          # scope does not cover it
    _rep({RepresentativeScope.NEGOTIATION}, revoked_on=dt.date(2026, 2, 9)),             # revoked
    _rep({RepresentativeScope.NEGOTIATION}, ends_on=dt.date(2026, 2, 9)),                # ended the day before
    _rep({RepresentativeScope.NEGOTIATION}, starts_on=dt.date(2026, 2, 11)),             # starts the day after
    _rep({RepresentativeScope.NEGOTIATION}, document_rejected=True),                     # its document rejected
    _rep({RepresentativeScope.NEGOTIATION}, representative_id="rep-other"),              # not this case's
])
def test_a_representative_not_authorised_to_negotiate_that_day_is_refused(representative: Representative) -> None:
    with pytest.raises(Forbidden) as refused:
        check_appellant(RULES_DECLINE, Caller("agent"), "rep-1", [representative], DECIDED)
    assert refused.value.reason == "representative_not_authorised"


def test_the_statement_needs_grounds_and_new_evidence(policy: Policy) -> None:
    assert written_statement(f"  {GROUNDS}  ", DIAGNOSIS, policy) == GROUNDS
    cases = [("too short", DIAGNOSIS, "statement_too_short"),     # 9 characters, the policy asks for 20
             ("x" * 4001, DIAGNOSIS, "statement_too_long"),       # the policy allows 4000
             (GROUNDS, (), "new_evidence_required"),
             (GROUNDS, (NewEvidence("pay_slips", "   "),), "evidence_description_required"),
             (GROUNDS, tuple(NewEvidence("pay_slips", f"slip {i}") for i in range(11)), "too_much_evidence")]
    for statement, evidence, reason in cases:
        with pytest.raises(Unprocessable) as refused:
            written_statement(statement, evidence, policy)
        assert refused.value.reason == reason
    assert written_statement("x" * 20, DIAGNOSIS, policy) == "x" * 20  # exactly the minimum


def test_a_second_supervisor_reviews_a_supervisors_decline() -> None:
    check_reviewer(status="pending", appeal_id="apl-1", decided_by_subject="supervisor-a",
                   reviewer_subject="supervisor-b", reviewer_role="supervisor")
    with pytest.raises(Forbidden) as same:
        check_reviewer(status="pending", appeal_id="apl-1", decided_by_subject="supervisor-a",
                       reviewer_subject="supervisor-a", reviewer_role="supervisor")
    assert same.value.reason == "same_supervisor"


def test_any_supervisor_reviews_the_rules_decline_but_no_agent_and_only_once() -> None:
    check_reviewer(status="pending", appeal_id="apl-1", decided_by_subject=None,
                   reviewer_subject="supervisor-a", reviewer_role="supervisor")
    with pytest.raises(Forbidden) as agent:
        check_reviewer(status="pending", appeal_id="apl-1", decided_by_subject=None,
                       reviewer_subject="agent-1", reviewer_role="agent")
    assert agent.value.reason == "supervisor_required"
    with pytest.raises(Conflict) as again:
        check_reviewer(status="upheld", appeal_id="apl-1", decided_by_subject=None,
                       reviewer_subject="supervisor-b", reviewer_role="supervisor")
    assert again.value.reason == "appeal_upheld"
