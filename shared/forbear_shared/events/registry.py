"""Versioned event schemas and the upcasters between versions.

Rules: adding an optional field keeps the version; anything else (rename, new required field,
changed meaning) registers a new version and an upcaster from the previous one. Consumers
always see the latest version: older events are upcast step by step (v1→v2→v3) on decode.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from forbear_shared.events.envelope import Envelope

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class EventError(Exception):
    """An event that cannot be used; ``reason`` is a short machine-readable code."""

    reason = "invalid"


class MalformedEvent(EventError):
    reason = "malformed"


class UnknownEvent(EventError):
    reason = "unknown_type_or_version"


@dataclass(frozen=True)
class DecodedEvent:
    envelope: Envelope
    payload: BaseModel
    #: version the producer wrote, before upcasting
    original_version: int


class Registry:
    def __init__(self) -> None:
        self._schemas: dict[tuple[str, int], type[BaseModel]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self._latest: dict[str, int] = {}

    def register(self, type: str, version: int) -> Callable[[type[BaseModel]], type[BaseModel]]:
        def wrap(model: type[BaseModel]) -> type[BaseModel]:
            key = (type, version)
            if key in self._schemas:
                raise ValueError(f"event schema {type} v{version} registered twice")
            self._schemas[key] = model
            self._latest[type] = max(version, self._latest.get(type, 0))
            return model

        return wrap

    def upcaster(self, type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        def wrap(fn: Upcaster) -> Upcaster:
            self._upcasters[(type, from_version)] = fn
            return fn

        return wrap

    def latest(self, type: str) -> int:
        try:
            return self._latest[type]
        except KeyError:
            raise UnknownEvent(f"no schema registered for event type {type!r}") from None

    def model(self, type: str, version: int) -> type[BaseModel]:
        try:
            return self._schemas[(type, version)]
        except KeyError:
            raise UnknownEvent(f"no schema for event type {type!r} version {version}") from None

    def version_of(self, type: str, payload: BaseModel) -> int:
        version = self.latest(type)
        expected = self._schemas[(type, version)]
        if not isinstance(payload, expected):
            raise TypeError(f"{type} v{version} expects {expected.__name__}, got {payload.__class__.__name__}")
        return version

    def types(self) -> list[tuple[str, int]]:
        return sorted(self._schemas)

    def upcast(self, type: str, version: int, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        latest = self.latest(type)
        if version > latest:
            raise UnknownEvent(f"event type {type!r} version {version} is newer than this consumer knows ({latest})")
        if (type, version) not in self._schemas:
            raise UnknownEvent(f"no schema for event type {type!r} version {version}")
        while version < latest:
            step = self._upcasters.get((type, version))
            if step is None:
                raise UnknownEvent(f"no upcaster for {type!r} from version {version}")
            payload = step(dict(payload))
            version += 1
        return version, payload


registry = Registry()


def latest_version(type: str) -> int:
    return registry.latest(type)


def encode(envelope: Envelope) -> bytes:
    return envelope.model_dump_json().encode()


def decode(raw: bytes | None) -> DecodedEvent:
    """Validate the envelope and its payload; raise ``MalformedEvent`` or ``UnknownEvent``.

    The envelope of an event of an older version is returned upcast: latest version, payload
    as the latest model writes it. An event already at the latest version keeps its payload
    as it arrived (it was validated; ``payload`` is the model).
    """
    if raw is None:
        raise MalformedEvent("empty message value")
    try:
        envelope = Envelope.model_validate_json(raw)
    except ValidationError as exc:
        raise MalformedEvent(_json_or_envelope_error(raw, exc)) from None
    version, payload = registry.upcast(envelope.type, envelope.schema_version, envelope.payload)
    model = registry.model(envelope.type, version)
    try:
        parsed = model.model_validate(payload)
    except ValidationError as exc:
        raise MalformedEvent(f"invalid {envelope.type} v{version} payload: {_errors(exc)}") from None
    if version == envelope.schema_version:
        return DecodedEvent(envelope, parsed, version)
    upcast_envelope = envelope.model_copy(update={"schema_version": version, "payload": parsed.model_dump(mode="json")})
    return DecodedEvent(upcast_envelope, parsed, envelope.schema_version)


def _json_or_envelope_error(raw: bytes, exc: ValidationError) -> str:
    """The reason a message is not an event: not JSON, not an object, or a bad envelope."""
    if any(e["type"] == "json_invalid" for e in exc.errors()):
        try:
            json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            return f"not JSON: {error}"
        return f"not JSON: {exc.errors()[0]['msg']}"
    if any(e["type"] == "model_type" and not e["loc"] for e in exc.errors()):
        return "event is not a JSON object"
    return f"invalid envelope: {_errors(exc)}"


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()[:5])
