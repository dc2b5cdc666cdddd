"""Event ids minted a batch at a time are ordinary random (version 4) UUIDs."""

from __future__ import annotations

import uuid

from forbear_shared.events import new_event_ids


def test_batch_minted_event_ids_are_distinct_canonical_version_4_uuids() -> None:
    ids = new_event_ids(2000)
    assert len(set(ids)) == 2000
    for text in ids:
        parsed = uuid.UUID(text)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text  # lower-case, hyphenated: what the envelope's JSON holds


def test_no_ids_asked_none_given() -> None:
    assert new_event_ids(0) == []
