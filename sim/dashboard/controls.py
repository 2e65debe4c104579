"""The dashboard's controls: their widgets, their values in a scenario, and the scenario they build.

Everything here is plain Python (no Solara), so the scenario a set of control
values produces is unit-tested like any other loader path. The rule for presets:
an operating-model preset is laid over the base scenario, and a control moved
away from the base scenario's value wins over the preset.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.config import keypath
from sim.config.base import CONTENT_TYPES
from sim.config.errors import ScenarioError
from sim.config.loader import load_scenario, preset_names, scenario_from_mapping, with_operating_model
from sim.config.schema import Scenario

#: Source named in the messages of scenarios built from the controls.
SOURCE = "dashboard"
#: The dashboard is for small communities: larger markets are refused.
MAX_MARKET = 20_000
#: The default community: the starting scenario's community (at most this many initial members,
#: its paid budget and KOCs in proportion) in a market of this size. The baseline's own community
#: (1,000 members, 1,000 CNY a day of paid acquisition, 20 KOCs) fits as it is: smaller ones cannot
#: carry an operator and a daily post, so a smaller default would only teach that communities lose money.
SMALL_MARKET, SMALL_INITIAL = MAX_MARKET, 1_000
DEFAULT_BASE = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.yaml"

NO_PRESET = "none"
SCENARIO_MIX = "as in the scenario"
EVEN_MIX = "even"
OTHER_TYPES = tuple(t for t in CONTENT_TYPES if t != "promotional")
FOCUS_CHOICES = (SCENARIO_MIX, EVEN_MIX, *(f"{t}-led" for t in OTHER_TYPES))
COUPON_TARGETS = ("all", "churn_risk", "silent", "core", "lapsed", "segment")

#: Controls that act on the running model from its next day on (``sim.dashboard.live``).
LIVE = (
    "content_focus",
    "promotional_share",
    "posts_per_day",
    "reward_inviter",
    "reward_invitee",
    "points",
    "coupons",
    "coupon_target",
    "coupon_value",
    "operators",
    "koc_incubation",
)
#: Controls that rebuild the community (its people, network and random numbers): they apply on Reset.
ON_RESET = ("operating_model", "seed")
#: Said after the label of a control that applies on Reset.
ON_RESET_NOTE = " (applies on Reset)"

#: Controls that set one scenario key each: name -> key path (the grammar of --set).
KEYS: dict[str, tuple[keypath.Token, ...]] = {
    name: keypath.split(path)
    for name, path in {
        "posts_per_day": "content.posts_per_day",
        "reward_inviter": "referral.reward_inviter",
        "reward_invitee": "referral.reward_invitee",
        "points": "incentives.points.enabled",
        "coupons": "incentives.coupons.enabled",
        "coupon_target": "incentives.coupons.target",
        "coupon_value": "incentives.coupons.value",
        "operators": "operators.headcount",
        "koc_incubation": "koc.incubation.enabled",
    }.items()
}


def _get(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


def _set(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        data = data.setdefault(key, {})
    data[path[-1]] = value


# --- the base scenario ---------------------------------------------------------------------


def shrink(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of resolved scenario ``data`` in the dashboard's market, with at most ``SMALL_INITIAL`` members."""
    out = copy.deepcopy(dict(data))
    acq = out["acquisition"]
    if out["market"]["size"] <= SMALL_MARKET:
        return out
    initial = min(SMALL_INITIAL, acq["initial_members"])
    scale = initial / acq["initial_members"] if acq["initial_members"] else 1.0
    out["market"]["size"] = SMALL_MARKET
    acq["initial_members"] = initial
    acq["paid"]["daily_budget"] = round(acq["paid"]["daily_budget"] * scale, 2)
    out["koc"]["initial_count"] = min(round(out["koc"]["initial_count"] * scale), initial)
    out["description"] = f"The {out['name']} scenario's community in a market of {SMALL_MARKET:,} people."
    out["name"] = f"{out['name']}_small"[:80]
    return out


def load_base(path: str | Path | None = None) -> dict[str, Any]:
    """Resolved data of the starting scenario: ``path``, or the baseline's community in the dashboard's market."""
    if path:
        return load_scenario(path).model_dump(mode="json")
    base = load_scenario(DEFAULT_BASE) if DEFAULT_BASE.exists() else Scenario(name="baseline")
    return shrink(base.model_dump(mode="json"))


def check_small(data: Mapping[str, Any], source: str) -> None:
    """Refuse a market larger than the dashboard is meant for."""
    size = data["market"]["size"]
    if size > MAX_MARKET:
        message = (
            f"{size:,} people is too many for the dashboard (at most {MAX_MARKET:,}); "
            "use a smaller market, or `community-sim run` for large ones"
        )
        raise ScenarioError.single(source, None, "market.size", message)


# --- control values ------------------------------------------------------------------------


def control_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The value of every control in resolved scenario ``data`` (the controls' starting positions)."""
    values: dict[str, Any] = {
        "operating_model": data.get("operating_model") or NO_PRESET,
        "content_focus": SCENARIO_MIX,
        "promotional_share": round(float(data["content"]["mix"].get("promotional", 0.0)), 4),
    }
    values.update({name: _get(data, path) for name, path in KEYS.items()})
    values["seed"] = str(data["seed"])
    return values


def widgets(data: Mapping[str, Any]) -> dict[str, Any]:
    """One widget per control (in SolaraViz's ``model_params`` format), starting at the scenario's values."""
    v = control_values(data)

    def top(value: float, at_least: float) -> float:
        return max(at_least, value)

    def slider(kind: str, label: str, name: str, lo: float, hi: float, step: float) -> dict[str, Any]:
        return {"type": kind, "label": label, "value": v[name], "min": lo, "max": top(v[name], hi), "step": step}

    targets = [t for t in COUPON_TARGETS if t != "segment" or v["coupon_target"] == "segment"]
    return {
        "operating_model": {
            "type": "Select",
            "label": "Operating-model preset" + ON_RESET_NOTE,
            "value": v["operating_model"],
            "values": [NO_PRESET, *preset_names()],
        },
        "content_focus": {
            "type": "Select",
            "label": "Content mix",
            "value": SCENARIO_MIX,
            "values": list(FOCUS_CHOICES),
        },
        "promotional_share": slider("SliderFloat", "Promotional share of posts", "promotional_share", 0, 1, 0.01),
        "posts_per_day": slider("SliderFloat", "Brand posts per day", "posts_per_day", 0, 30, 0.5),
        "reward_inviter": slider("SliderInt", "Referral reward, inviter (CNY)", "reward_inviter", 0, 100, 1),
        "reward_invitee": slider("SliderInt", "Referral reward, new member (CNY)", "reward_invitee", 0, 100, 1),
        "points": {"type": "Checkbox", "label": "Points program", "value": v["points"]},
        "coupons": {"type": "Checkbox", "label": "Coupon program", "value": v["coupons"]},
        "coupon_target": {"type": "Select", "label": "Coupons go to", "value": v["coupon_target"], "values": targets},
        "coupon_value": slider("SliderFloat", "Coupon value (CNY off)", "coupon_value", 1, 50, 1),
        "operators": slider("SliderInt", "Operators (headcount)", "operators", 0, 20, 1),
        "koc_incubation": {"type": "Checkbox", "label": "KOC incubation", "value": v["koc_incubation"]},
        "seed": {"type": "InputText", "label": "Seed" + ON_RESET_NOTE, "value": v["seed"]},
    }


def describe(name: str, old: Any, new: Any) -> str:
    """A short dated-event label for control ``name`` moved from ``old`` to ``new``."""
    if isinstance(new, bool):
        what = {"points": "points program", "coupons": "coupon program", "koc_incubation": "KOC incubation"}
        return f"{what.get(name, name)} {'on' if new else 'off'}"
    if name == "promotional_share":
        return f"promotional share {float(old):.0%} → {float(new):.0%}"
    if name == "content_focus":
        return f"content mix {new}"
    fmt = lambda x: f"{x:g}" if isinstance(x, int | float) else str(x)  # noqa: E731
    money = {"reward_inviter": "inviter reward", "reward_invitee": "new-member reward", "coupon_value": "coupon value"}
    if name in money:
        return f"{money[name]} ¥{fmt(old)} → ¥{fmt(new)}"
    short = {"posts_per_day": "brand posts/day", "coupon_target": "coupons to"}.get(name, name)
    return f"{short} {fmt(old)} → {fmt(new)}"


# --- the content mix -----------------------------------------------------------------------


def _tidy(mix: dict[str, float]) -> dict[str, float]:
    """Shares in whole millionths that sum to exactly one million (largest-remainder rounding)."""
    units = {t: float(mix.get(t, 0.0)) * 1e6 for t in CONTENT_TYPES}
    whole = {t: int(u) for t, u in units.items()}
    by_remainder = sorted(CONTENT_TYPES, key=lambda t: whole[t] - units[t])
    for t in by_remainder[: max(0, 1_000_000 - sum(whole.values()))]:
        whole[t] += 1
    return {t: w / 1e6 for t, w in whole.items()}


def with_promotional_share(mix: Mapping[str, float], share: float) -> dict[str, float]:
    """``mix`` with the promotional share set to ``share`` and the other shares rescaled in proportion."""
    rest = 1.0 - float(mix.get("promotional", 0.0))
    others = {t: float(mix.get(t, 0.0)) for t in OTHER_TYPES}
    if rest > 1e-12 and sum(others.values()) > 1e-12:
        scaled = {t: x * (1.0 - share) / rest for t, x in others.items()}
    else:
        scaled = dict.fromkeys(OTHER_TYPES, (1.0 - share) / len(OTHER_TYPES))
    return _tidy({**scaled, "promotional": share})


def focus_mix(mix: Mapping[str, float], focus: str) -> dict[str, float]:
    """``mix`` re-weighted: ``even`` splits the non-promotional share evenly; ``<type>-led`` gives that type half."""
    promo = float(mix.get("promotional", 0.0))
    rest = 1.0 - promo
    if focus == SCENARIO_MIX:
        return dict(mix)
    if focus == EVEN_MIX:
        return _tidy({**dict.fromkeys(OTHER_TYPES, rest / len(OTHER_TYPES)), "promotional": promo})
    lead = focus.removesuffix("-led")
    if lead not in OTHER_TYPES:
        message = f"unknown content mix {focus!r}; choose one of {', '.join(FOCUS_CHOICES)}"
        raise ScenarioError.single(SOURCE, None, "content.mix", message)
    others = {t: float(mix.get(t, 0.0)) for t in OTHER_TYPES if t != lead}
    total = sum(others.values())
    shares = {t: (x / total if total > 0 else 1 / len(others)) * rest / 2 for t, x in others.items()}
    return _tidy({**shares, lead: rest / 2, "promotional": promo})


# --- building the scenario -----------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))
    return a == b


def _seed(value: Any) -> Any:
    text = str(value).strip()
    return int(text) if re.fullmatch(r"\d+", text) else text  # anything else is reported by validation


def build_scenario(base: Mapping[str, Any], controls: Mapping[str, Any]) -> Scenario:
    """The scenario the controls describe, validated with the loader's messages (a ``ScenarioError``).

    ``base`` is resolved scenario data; controls left at the base's values leave the
    preset's values in place, moved controls override them.
    """
    start = control_values(base)
    unknown = sorted(set(controls) - set(start))
    if unknown:
        raise ScenarioError.single(SOURCE, None, "", f"unknown control(s) {unknown}")
    moved = {k for k, v in controls.items() if not _same(v, start[k])}
    data = copy.deepcopy(dict(base))
    if "operating_model" in moved:
        preset = controls["operating_model"]
        data = with_operating_model(data, preset) if preset != NO_PRESET else {**data, "operating_model": None}
    mix = dict(data["content"]["mix"])
    if "content_focus" in moved:
        mix = focus_mix(mix, controls["content_focus"])
    if "promotional_share" in moved:
        mix = with_promotional_share(mix, round(float(controls["promotional_share"]), 4))
    data["content"] = {**data["content"], "mix": mix}
    for name in sorted(moved & set(KEYS)):
        value = controls[name]
        _set(data, KEYS[name], round(value, 2) if isinstance(value, float) else value)
    data["seed"] = _seed(controls.get("seed", start["seed"]))
    return scenario_from_mapping(data, source=SOURCE)
