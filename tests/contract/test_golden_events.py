"""Golden events are the contract with every consumer, ours and the lender's pipelines.

Each registered (type, version) has a golden file; each still decodes, upcasts to the latest
version as recorded, and re-encodes to what it decoded from. Changing a schema in a way that
breaks an old event fails here first.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from forbear_shared.events import MalformedEvent, UnknownEvent, decode, encode, latest_version, registry

GOLDEN = Path(__file__).parent / "golden"


def golden_files() -> list[Path]:
    return sorted(GOLDEN.glob("*.json"))


def test_every_registered_schema_version_has_a_golden_event() -> None:
    recorded = {p.name.rsplit(".v", 1)[0] + f"@{p.stem.rsplit('.v', 1)[1]}" for p in golden_files()}
    registered = {f"{t}@{v}" for t, v in registry.types()}
    assert registered - recorded == set(), "add a golden file for each new schema version"
    assert recorded - registered == set(), "a golden file names a schema that is not registered"


@pytest.mark.parametrize("path", golden_files(), ids=lambda p: p.stem)
def test_golden_event_decodes_and_upcasts_to_the_latest_version(path: Path) -> None:
    golden = json.loads(path.read_text())
    event = decode(json.dumps(golden["event"]).encode())
    assert event.original_version == golden["event"]["schema_version"]
    assert event.envelope.schema_version == latest_version(golden["event"]["type"])
    # a later optional field may add keys (same version); every recorded one must still match
    recorded = golden["upcast_payload"]
    assert {k: event.envelope.payload.get(k) for k in recorded} == recorded
    assert event.envelope.event_id.hex == golden["event"]["event_id"].replace("-", "")


@pytest.mark.parametrize("path", golden_files(), ids=lambda p: p.stem)
def test_golden_event_re_encodes_to_what_it_decoded_from(path: Path) -> None:
    golden = json.loads(path.read_text())
    event = decode(json.dumps(golden["event"]).encode())
    again = json.loads(encode(event.envelope))
    if event.original_version == latest_version(golden["event"]["type"]):
        # an event at the latest version goes back on the wire byte-for-byte the same document
        assert again == golden["event"]
    else:
        # an older one goes on as the latest version, with the payload it was upcast to
        assert {k: again[k] for k in golden["event"] if k not in ("schema_version", "payload")} == {
            k: v for k, v in golden["event"].items() if k not in ("schema_version", "payload")}
        assert again["schema_version"] == latest_version(golden["event"]["type"])
    # and decoding what was encoded gives the same event again
    assert decode(encode(event.envelope)).envelope == event.envelope


def test_money_as_a_float_is_refused() -> None:
    from decimal import Decimal

    from forbear_shared.events.schemas.common import DecimalStr, Payload

    class Amount(Payload):
        amount: DecimalStr

    assert Amount.model_validate({"amount": "17.01"}).amount == Decimal("17.01")
    assert Amount(amount=Decimal("17.01")).model_dump(mode="json") == {"amount": "17.01"}
    with pytest.raises(ValueError, match="decimal string"):
        Amount.model_validate({"amount": 17.01})


def test_an_event_newer_than_the_consumer_is_unknown_not_guessed() -> None:
    golden = json.loads((GOLDEN / "business_date.advanced.v2.json").read_text())
    golden["event"]["schema_version"] = 3
    with pytest.raises(UnknownEvent, match="newer"):
        decode(json.dumps(golden["event"]).encode())


def test_an_envelope_missing_its_case_id_is_malformed() -> None:
    golden = json.loads((GOLDEN / "business_date.advanced.v2.json").read_text())
    del golden["event"]["case_id"]
    with pytest.raises(MalformedEvent, match="case_id"):
        decode(json.dumps(golden["event"]).encode())


def test_the_event_catalogue_document_is_current() -> None:
    from forbear_shared.events.catalogue import render

    document = Path(__file__).parents[2] / "shared" / "EVENTS.md"
    assert document.read_text() == render(), "regenerate: python -m forbear_shared.events.catalogue > shared/EVENTS.md"
