"""docs/ODD.md describes the model in the ODD protocol and names every parameter of the schema."""

from __future__ import annotations

import re
from pathlib import Path

from sim.config import fields

ODD_PATH = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"

#: The seven ODD elements (Grimm et al. 2020), in the order the protocol prescribes.
SECTIONS = (
    "1. Purpose and patterns",
    "2. Entities, state variables and scales",
    "3. Process overview and scheduling",
    "4. Design concepts",
    "5. Initialization",
    "6. Input data",
    "7. Submodels",
)


def leaf_parameters() -> list[str]:
    """Every leaf key of the schema as ``fields.walk`` writes it (e.g. ``events[]<crisis>.severity``).

    A leaf is a field whose annotation is not a model, a list or dict of models, or a
    tagged union of models (their fields are walked instead).
    """
    leaves = []
    for path, _info, ann in fields.walk():
        kind = fields.container(ann)
        if fields.is_model(ann) or fields.variants(ann):
            continue
        if kind and (fields.is_model(kind[1]) or fields.variants(kind[1])):
            continue
        leaves.append(path)
    return leaves


def odd_text() -> str:
    assert ODD_PATH.exists(), f"{ODD_PATH} is missing"
    return ODD_PATH.read_text(encoding="utf-8")


def test_leaf_walk_covers_nested_lists_dicts_and_unions():
    leaves = leaf_parameters()
    for key in (
        "market.segments[].share",
        "content.effects.<type>.engagement",
        "events[]<crisis>.severity",
        "rules.rules[].then<shift_mix>.toward",
        "incentives.tiers.levels[].threshold",
        "content.mix",
    ):
        assert key in leaves
    assert "events" not in leaves and "market.segments" not in leaves and "rules.rules[].then" not in leaves


def test_every_schema_parameter_is_in_odd():
    text = odd_text()
    missing = [key for key in leaf_parameters() if f"`{key}`" not in text]
    assert not missing, (
        f"{len(missing)} scenario key(s) of sim/config/schema.py are not described in docs/ODD.md: "
        f"{', '.join(missing)}. docs/ODD.md must be updated: add each key (in backticks, written as in "
        "docs/scenario-reference.md) to the parameter table of its submodel in section 7, with its "
        "default and source, and describe what it does."
    )


def test_odd_sections_exist_in_order():
    text = odd_text()
    headings = re.findall(r"^## (.+?)\s*$", text, flags=re.MULTILINE)
    found = [h for h in headings if h in SECTIONS]
    missing = [s for s in SECTIONS if s not in headings]
    assert not missing, f"docs/ODD.md lacks the ODD section heading(s) {missing} (as '## <heading>')"
    assert found == list(SECTIONS), f"ODD sections of docs/ODD.md are out of order or repeated: {found}"
