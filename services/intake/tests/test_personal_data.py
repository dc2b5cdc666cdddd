"""The retention rule of a closed case's personal data: five years after it closed, by business date."""

from __future__ import annotations

from datetime import date

import pytest
from forbear_intake.domain.case_status import CaseStatus
from forbear_intake.domain.personal_data import Erasure, candidates_closed_by, erasure, erasure_due_on
from forbear_shared.domain.policy import RetentionPolicy

FIVE_YEARS = RetentionPolicy(personal_data_years=5)


def test_a_declined_case_is_erased_five_years_after_it_closed_not_a_day_before() -> None:
    closed = date(2026, 3, 2)
    assert erasure_due_on(closed, FIVE_YEARS) == date(2031, 3, 2)
    assert erasure(CaseStatus.DECLINED, closed, None, date(2031, 3, 1), FIVE_YEARS) is Erasure.RETENTION_RUNNING
    assert erasure(CaseStatus.DECLINED, closed, None, date(2031, 3, 2), FIVE_YEARS) is Erasure.DUE


def test_a_case_closed_on_a_29_february_is_due_on_the_28th_five_years_on() -> None:
    assert erasure_due_on(date(2028, 2, 29), FIVE_YEARS) == date(2033, 2, 28)
    # the candidates' bound reaches a few days beyond, so no month end is missed
    assert candidates_closed_by(date(2033, 2, 28), FIVE_YEARS) == date(2028, 3, 2)


def test_a_completed_agreement_closes_the_case_too() -> None:
    assert erasure(CaseStatus.COMPLETED, date(2026, 1, 5), None, date(2031, 1, 5), FIVE_YEARS) is Erasure.DUE


def test_a_case_referred_to_legal_is_on_hold_however_old() -> None:
    assert erasure(CaseStatus.LEGAL_REFERRAL, date(2000, 1, 5), None, date(2031, 1, 5), FIVE_YEARS) is Erasure.LEGAL_HOLD


@pytest.mark.parametrize("status", [CaseStatus.AWAITING_EVIDENCE, CaseStatus.UNDER_EVALUATION,
                                    CaseStatus.AGREEMENT_ACTIVE, CaseStatus.OFFER_ACCEPTED])
def test_a_case_still_open_keeps_its_personal_data(status: CaseStatus) -> None:
    assert erasure(status, None, None, date(2040, 1, 1), FIVE_YEARS) is Erasure.CASE_OPEN


def test_a_case_is_erased_once() -> None:
    assert erasure(CaseStatus.DECLINED, date(2026, 1, 5), date(2031, 1, 5), date(2031, 2, 1),
                   FIVE_YEARS) is Erasure.ALREADY_ERASED
