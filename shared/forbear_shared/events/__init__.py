"""The one event envelope, the versioned schema registry and its upcasters.

Importing this package registers every schema of every service (``schemas``), so that any
consumer can validate any event it reads.
"""

from forbear_shared.events import schemas as _schemas  # noqa: F401  (registers schemas)
from forbear_shared.events.envelope import Envelope, new_event, new_event_ids
from forbear_shared.events.registry import (
    DecodedEvent,
    EventError,
    MalformedEvent,
    UnknownEvent,
    decode,
    encode,
    latest_version,
    registry,
)

__all__ = [
    "DecodedEvent",
    "Envelope",
    "EventError",
    "MalformedEvent",
    "UnknownEvent",
    "decode",
    "encode",
    "latest_version",
    "new_event",
    "new_event_ids",
    "registry",
]
