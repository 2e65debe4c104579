"""Shared base for every scenario section: strict, frozen, documented."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

CONTENT_TYPES: tuple[str, ...] = (
    "educational",
    "review",
    "entertainment",
    "interactive",
    "promotional",
    "livestream",
)


class Section(BaseModel):
    """A scenario section: unknown keys are errors and values are frozen once built."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)
