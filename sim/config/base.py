"""Shared base for every scenario section: strict, frozen, documented."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

CONTENT_TYPES: tuple[str, ...] = (
    "educational",
    "review",
    "entertainment",
    "interactive",
    "promotional",
    "livestream",
)

NAME_MAX = 80
#: What a scenario or experiment name may be, for messages and the scenario reference.
NAME_RULE = f"1 to {NAME_MAX} letters or digits of any script (such as 社群测试), '_', '-' or '.'"
#: Device names Windows reserves, with or without an extension (``con.txt``).
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"{d}{i}" for d in ("COM", "LPT") for i in "0123456789¹²³")}
_DIR_BYTES = 200  # a path component may take 255 bytes; Chinese characters take 3 each in UTF-8


def _name_char(c: str) -> bool:
    """A letter, mark or digit of any script, or one of ``_ . -``."""
    return c in "_.-" or unicodedata.category(c)[0] in "LMN"


def _check_name(value: str) -> str:
    if not 1 <= len(value) <= NAME_MAX or not all(_name_char(c) for c in value):
        raise ValueError(f"must be {NAME_RULE}, got {value!r}")
    if value in (".", ".."):
        raise ValueError(f"{value!r} cannot be a name: names are directories under the results root")
    return value


@dataclass(frozen=True)
class Rule:
    """What a value must be, in words (shown by the scenario reference)."""

    rule: str


#: The name of a scenario or an experiment: it names a directory under the results root (``dir_name``).
Name = Annotated[str, AfterValidator(_check_name), Rule(NAME_RULE)]


def name_from_stem(stem: str, default: str) -> str:
    """A file stem made into a name (other characters become ``_``); ``default`` if nothing usable is left."""
    name = "".join(c if _name_char(c) else "_" for c in unicodedata.normalize("NFC", stem))[:NAME_MAX]
    return name if name not in ("", ".", "..") else default  # "...yaml" has the stem ".."


def dir_name(name: str) -> str:
    """The directory that a name gives under the results root, safe on Linux, macOS and Windows.

    Chinese and other letters are kept (NFC-normalized, as macOS stores them); path separators,
    control and other characters become ``_``; leading dots (hidden) and trailing dots (dropped
    by Windows) go; a device name Windows reserves (``CON``, ``nul.x``) gets a leading ``_``;
    the length is capped at 80 characters and 200 bytes of UTF-8.
    """
    text = "".join(c if _name_char(c) else "_" for c in unicodedata.normalize("NFC", name)).strip(".")
    text = text[:NAME_MAX]
    while len(text.encode("utf-8")) > _DIR_BYTES:
        text = text[:-1]
    text = text.rstrip(".")
    if text.split(".")[0].upper() in _WINDOWS_RESERVED:
        text = f"_{text}"
    return text or "unnamed"


class Section(BaseModel):
    """A scenario section: unknown keys are errors and values are frozen once built."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)
