"""Escalation invariants over any sequence of daily observations."""

from datetime import date, timedelta

from forbear_monitoring.domain.escalation import (
    ALLOWED,
    LADDER,
    TERMINAL,
    EscalationError,
    EscalationLadder,
    Stage,
)
from forbear_shared.domain.money import Money
from forbear_shared.policy_loader import load_policy
from hypothesis import given, settings
from hypothesis import strategies as st

POLICY = load_policy()
LADDER_RULES = EscalationLadder(POLICY)

observations = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=10),          # days since the previous observation
        st.integers(min_value=0, max_value=120),         # DPD
        st.integers(min_value=0, max_value=4),           # unpaid missed instalments
        st.sampled_from([None, "pending_evaluation:C1"]),  # dual-tracking guard
        st.sampled_from(["advance", "advance", "advance", "cure", "cure_unpaid", "complete"]),
    ),
    max_size=40,
)


def refusal(stage: Stage, action: str) -> str | None:
    """The reason the ladder's rules give for refusing ``action`` from ``stage`` (None: allowed).

    Referral and completion are final; a cure needs a delinquent agreement and every arrear
    paid; an advance on valid DPD and counts is never refused (it may simply not move)."""
    if action == "advance":
        return None
    if stage in TERMINAL:
        return "terminal_state"
    if action == "complete":
        return None
    if stage is Stage.CURRENT:
        return "not_delinquent"
    return "arrears_outstanding" if action == "cure_unpaid" else None


@settings(max_examples=300, deadline=None)
@given(observations)
def test_escalation_never_skips_never_goes_back_except_by_cure_and_final_states_stay_final(events):
    state = LADDER_RULES.start(date(2025, 3, 1))
    day = state.since
    for gap, dpd, missed, block, action in events:
        day = day + timedelta(days=gap)
        before = state
        steps = ()
        try:
            if action == "advance":
                outcome = LADDER_RULES.advance(state, as_of=day, dpd=dpd, missed_instalments=missed,
                                               referral_block=block)
                state, steps = outcome.state, outcome.steps
            elif action == "cure":
                state, step = LADDER_RULES.cure(state, on=day, arrears=Money.zero())
                steps = (step,)
            elif action == "cure_unpaid":
                state, step = LADDER_RULES.cure(state, on=day, arrears=Money.of("100.00"))
                steps = (step,)
            else:
                state, step = LADDER_RULES.complete(state, on=day, all_instalments_paid=True)
                steps = (step,)
        except EscalationError as refused:
            # refused exactly when the ladder's rules refuse, for the rule's reason
            assert refused.reason == refusal(before.stage, action), (before, action, refused.reason)
            continue

        assert refusal(before.stage, action) is None, (before, action, "should have been refused")
        assert action != "cure_unpaid", "a cure with arrears outstanding must be refused"
        if before.stage in TERMINAL:
            assert state == before and steps == ()
            continue
        previous_stage = before.stage
        for step in steps:
            assert step.from_stage is previous_stage  # steps chain, nothing silent in between
            assert step.to_stage in ALLOWED[step.from_stage]
            if step.to_stage is Stage.CURRENT:
                assert step.reason == "arrears_paid"  # the only way back is a cure
            elif step.to_stage is not Stage.COMPLETED:
                assert LADDER.index(step.to_stage) == LADDER.index(step.from_stage) + 1  # one rung at a time
            previous_stage = step.to_stage
        assert previous_stage is state.stage
        if block is not None and action == "advance":
            assert state.stage is not Stage.LEGAL_REFERRAL
