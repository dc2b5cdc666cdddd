"""Field types every schema shares: money travels as a decimal string, never a float."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, BaseModel, PlainSerializer


def _no_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError("money must be a decimal string, not a float")
    return value


DecimalStr = Annotated[Decimal, BeforeValidator(_no_float), PlainSerializer(lambda d: str(d), return_type=str)]


class Payload(BaseModel):
    """Payloads ignore unknown fields (a newer producer may add optional ones) and are frozen."""

    model_config = ConfigDict(frozen=True, extra="ignore")
