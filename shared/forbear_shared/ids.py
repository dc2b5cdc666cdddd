"""The one way a service mints the id of a record it creates (``cas-…``, ``off-…``, ``agr-…``).

128 random bits: ids are made in many processes at once with no coordination, and some of them
(case ids) are Kafka keys and appear in URLs, so they carry nothing guessable or personal.
"""

from __future__ import annotations

import uuid


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"
