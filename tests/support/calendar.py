"""The test lender's working calendar, and the policy file every test stack runs on.

Test sessions start at the installation's first business date (5 Jan 2026) and, run in full,
close business into 2027 and beyond, past the last year the holiday package knows
(chinese-calendar 1.11.0: 2004-2026). A lender in that position publishes the year itself
(``calendar.published_years``, its holidays in ``closed_days``); the test lender publishes
2027 to 2029 with no public holidays in them, so close of business carries on and the tests
know exactly which days are working days. The demo policy that ``make run`` uses is not
changed: it refuses a year nobody published (``calendar_year_unknown``).

The working days here are read straight from chinese-calendar, not through Forbear's
calendar, so tests check the product's rule against the table itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
from pathlib import Path

import chinese_calendar
from forbear_shared.domain.policy import Policy
from forbear_shared.domain.working_days import DayUnit
from forbear_shared.policy_loader import policy_from_text, read_policy_text

#: the years the test lender publishes itself: weekends closed, nothing else
PUBLISHED_YEARS = (2027, 2028, 2029)
DAY = dt.timedelta(days=1)


def policy_text(*, challenger: bool = False) -> str:
    """The demo lender's policy with the test lender's published years.

    The test lender runs its champion alone (the demo's ``[challenger]`` tables cut off, so
    that a test's expected offers follow from one policy whatever case id intake mints),
    unless ``challenger``: the demo's policy with its challenger, for the tests of the arms."""
    text = read_policy_text()
    pattern = re.compile(r"^published_years = \[\]", re.M)
    if not pattern.search(text):
        raise AssertionError("the demo policy no longer says `published_years = []`")
    text = pattern.sub(f"published_years = [{', '.join(map(str, PUBLISHED_YEARS))}]", text, count=1)
    if challenger:
        return text
    start = re.search(r"^\[challenger\]", text, re.M)
    if start is None or re.search(r"^\[(?!challenger[.\]])", text[start.start():], re.M):
        raise AssertionError("the demo policy's [challenger] tables are no longer its last")
    return text[:start.start()].rstrip() + "\n"


def policy_file(*, challenger: bool = False) -> Path:
    """The test policy, written once per content under the temporary directory (every process
    of a test run, and every run of the same code, reads the same file)."""
    return written_policy(policy_text(challenger=challenger))


def written_policy(text: str) -> Path:
    """A policy's text as a file every process of the run reads, named by its content."""
    path = Path(tempfile.gettempdir()) / f"forbear-test-policy-{hashlib.sha256(text.encode()).hexdigest()[:12]}.toml"
    if not path.exists():
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    return path


def policy(*, challenger: bool = False) -> Policy:
    """The test policy as the services load it."""
    return policy_from_text(policy_text(challenger=challenger))


_POLICY = policy()
if _POLICY.calendar.units.grace is not DayUnit.WORKING:
    raise AssertionError("the tests' grace arithmetic expects the demo's grace in working days")
#: the demo policy's grace, in working days
GRACE_WORKING_DAYS = _POLICY.delinquency.grace_days


def working_day(day: dt.date) -> bool:
    """A working day of the test lender: the State Council's table for the years it covers,
    Monday to Friday in a published year."""
    if day.year in PUBLISHED_YEARS:
        return day.isoweekday() <= 5
    return bool(chinese_calendar.is_workday(day))


def payable_on(due: dt.date) -> dt.date:
    """The day an instalment is payable in fact: its due date, or the next working day."""
    while not working_day(due):
        due += DAY
    return due


def grace_cutoff(due: dt.date, grace: int = GRACE_WORKING_DAYS) -> dt.date:
    """The last day of grace: the payable day, then ``grace`` working days."""
    day = payable_on(due)
    for _ in range(grace):
        day += DAY
        while not working_day(day):
            day += DAY
    return day


def missed_on(due: dt.date) -> dt.date:
    """The business date whose close finds the instalment missed: the day after its grace."""
    return grace_cutoff(due) + DAY


def dpd_date(due: dt.date, dpd: int) -> dt.date:
    """The business date on which an instalment due on ``due`` is ``dpd`` days past due (DPD
    counts calendar days from the end of grace)."""
    return grace_cutoff(due) + dpd * DAY


def plain_first_due(after: dt.date) -> dt.date:
    """The first date from ``after`` that is a working day followed by 3 working days: its grace
    ends 3 calendar days later, so a test's DPD arithmetic stays due + 3 + DPD."""
    day = after
    while grace_cutoff(day) != day + GRACE_WORKING_DAYS * DAY:
        day += DAY
    return day
