"""Masking personal data for people who do not need to see it.

Only supervisors see a borrower's national id, phone and full name (they may have to
verify identity or testify); agents, systems and the borrower themself see them masked the
same way, so a screen shared or photographed in a branch leaks nothing. The masks keep just
enough to recognise a record: the region prefix and last four digits of a national id
(``3101********1234``), the carrier prefix and last four of a phone (``138****5678``), the
family name of a person.
"""

from __future__ import annotations


def mask_national_id(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str | None) -> str | None:
    if value is None:
        return None
    digits = value.strip()
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(value: str | None) -> str | None:
    """Keep the first character (the family name in Chinese order), star the rest."""
    if value is None or value == "":
        return value
    return value[0] + "*" * (len(value) - 1)
