"""Shared base for every scenario section: strict, frozen, documented."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

CONTENT_TYPES: tuple[str, ...] = (
    "educational",
    "review",
    "entertainment",
    "interactive",
    "promotional",
    "livestream",
)

NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,80}$"
_NOT_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]")


def _not_a_dot_directory(value: str) -> str:
    if value in (".", ".."):
        raise ValueError(f"{value!r} cannot be a name: names are directories under the results root")
    return value


#: The name of a scenario or an experiment: it names a directory under the results root.
Name = Annotated[str, Field(pattern=NAME_PATTERN), AfterValidator(_not_a_dot_directory)]


def name_from_stem(stem: str, default: str) -> str:
    """A file stem made into a name (other characters become ``_``); ``default`` if nothing usable is left."""
    name = _NOT_NAME_CHARS.sub("_", stem)[:80]
    return name if name not in ("", ".", "..") else default  # "...yaml" has the stem ".."


class Section(BaseModel):
    """A scenario section: unknown keys are errors and values are frozen once built."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)
