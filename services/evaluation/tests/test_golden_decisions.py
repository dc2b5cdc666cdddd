"""Speed work must not change a single decision: seeded random cases against recorded digests."""

import json

from services.evaluation.tests.golden_cases import GOLDEN, digest, outcomes


def test_decisions_are_unchanged() -> None:
    expected = json.loads(GOLDEN.read_text())
    actual = [digest(result) for result in outcomes(len(expected))]
    changed = [i for i, (a, e) in enumerate(zip(actual, expected, strict=True)) if a != e]
    assert not changed, (
        f"{len(changed)} decisions changed, first cases {changed[:10]}; "
        "diff with `python -m services.evaluation.tests.golden_cases dump FILE`"
    )
