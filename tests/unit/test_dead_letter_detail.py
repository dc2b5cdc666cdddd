"""What a dead letter says about its error: enough to act on, nothing personal."""

from forbear_shared.inbox import safe_detail


def test_a_database_error_keeps_its_message_and_drops_the_detail_line_that_quotes_the_row() -> None:
    error = ('UniqueViolation: duplicate key value violates unique constraint "borrowers_phone"\n'
             'DETAIL:  Key (phone)=(13900001111) already exists.')
    assert safe_detail(error) == 'UniqueViolation: duplicate key value violates unique constraint "borrowers_phone"'


def test_long_digit_runs_in_the_message_are_masked_to_their_last_four() -> None:
    assert safe_detail("RaiseException: loan refused for borrower 310101198805051234") == (
        "RaiseException: loan refused for borrower **************1234")


def test_an_error_is_clipped_to_the_header_limit() -> None:
    assert len(safe_detail("x" * 5000)) == 2000
    assert safe_detail("") == ""
