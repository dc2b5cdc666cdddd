"""One envelope for every event on every topic."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Envelope(BaseModel):
    """``case_id`` is also the Kafka key, so one case's events stay in order on one partition."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID
    type: str = Field(pattern=r"^[a-z_]+(\.[a-z_]+)+$")
    schema_version: int = Field(ge=1)
    case_id: str = Field(min_length=1, max_length=64)
    occurred_at: dt.datetime
    business_date: dt.date
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    producer: str
    payload: dict[str, Any]
    #: the policy version the producer acted under for this case, and the case's arm
    #: (``Policy.arm_of``: champion, or the challenger a policy file names); absent on events
    #: from outside Forbear (core banking's)
    policy_version: str | None = Field(default=None, min_length=1, max_length=100,
                                       exclude_if=lambda value: value is None)
    policy_arm: Literal["champion", "challenger"] | None = Field(default=None, exclude_if=lambda value: value is None)


def new_event_ids(count: int) -> list[str]:
    """``count`` random (version 4) event ids, as their canonical strings, from one read of the
    OS random source.

    ``uuid.uuid4()`` reads the OS source once per id and releases the GIL to do it; a thread
    minting thousands of ids while other threads of the process are busy waits to get the GIL
    back each time. One read for a batch costs the same as one id, and the strings are what
    event bodies and the outbox take.
    """
    pool = bytearray(os.urandom(16 * count))
    ids = []
    for i in range(0, 16 * count, 16):
        pool[i + 6] = (pool[i + 6] & 0x0F) | 0x40  # version 4
        pool[i + 8] = (pool[i + 8] & 0x3F) | 0x80  # RFC 4122 variant
        h = pool[i : i + 16].hex()
        ids.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return ids


def new_event(
    *,
    type: str,
    payload: BaseModel,
    case_id: str,
    business_date: dt.date,
    producer: str,
    occurred_at: dt.datetime,
    correlation_id: uuid.UUID | None = None,
    causation: Envelope | None = None,
    policy: tuple[str, str] | None = None,
) -> Envelope:
    """Build an envelope for a payload model registered in the schema registry.

    ``occurred_at`` is a technical timestamp passed in by the adapter; business decisions read
    ``business_date``. An event caused by another inherits its correlation id.
    """
    from forbear_shared.events.registry import registry

    version = registry.version_of(type, payload)
    event_id = uuid.uuid4()
    if causation is not None:
        correlation = causation.correlation_id
        causation_id: uuid.UUID | None = causation.event_id
    else:
        correlation = correlation_id or event_id
        causation_id = None
    return Envelope(
        event_id=event_id,
        type=type,
        schema_version=version,
        case_id=case_id,
        occurred_at=occurred_at,
        business_date=business_date,
        correlation_id=correlation,
        causation_id=causation_id,
        producer=producer,
        payload=payload.model_dump(mode="json"),
        policy_version=policy[0] if policy else None,
        policy_arm=policy[1] if policy else None,  # type: ignore[arg-type]  # validated: a Literal
    )
