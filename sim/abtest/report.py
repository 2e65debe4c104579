"""Plain sentences about the test: spillover bias, power and minimum detectable effect, the A/A false
positives, and the recommended design."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.abtest.analysis import POWER_TARGET, bias_band
from sim.abtest.design import METRICS, Design
from sim.compare import fmt


def weeks(days: int) -> str:
    """``42`` -> ``6 weeks``; ``10`` -> ``10 days``."""
    if days % 7 == 0:
        return f"{days // 7} week{'s' if days > 7 else ''}"
    return f"{days} days"


def _row(tab: pd.DataFrame, design: Design, unit: str, share: float, days: int) -> pd.Series:
    r = tab[(tab.metric == design.metric) & (tab.unit == unit) & (tab.share == share) & (tab.days == days)]
    return r.iloc[0]


def _reason(over: bool, treatment: dict[str, str]) -> str:
    referral = all(k.startswith("referral.") for k in treatment)
    if referral and over:
        return "treated members invite the friends control members would have invited (invitations cross arms)"
    if referral:
        return "rolling it out to everyone also grows the community around each member, which a partial test does not"
    return "treated and control members share one community (its friends, content and mood)"


def _per_member(x: float) -> str:
    return f"{x:+.3g} per member"


def _band(row: pd.Series) -> str:
    """`` ± 12%``: two standard errors of the relative bias."""
    band = bias_band(row)
    return f" ± {fmt.pct(band, signed=False)}" if np.isfinite(band) else ""


def bias_sentence(row: pd.Series, design: Design, treatment: dict[str, str]) -> str:
    """How far the test's estimate is from the effect of rolling out to everyone."""
    what = METRICS[design.metric][0]
    head = f"With {row.unit} randomization ({row.share:.0%} treated, {weeks(int(row.days))})"
    effects = f"test {_per_member(row.estimate)}, everyone treated {_per_member(row.true_effect)}"
    if not np.isfinite(row.relative_bias):
        return f"{head} the treatment has no effect on {what} to compare the test with ({effects})."
    noise = 2 * row.bias_se
    if abs(row.bias) <= noise:
        return (
            f"{head} the test's estimate of the effect on {what} matches the effect of rolling out to everyone "
            f"within noise (bias {fmt.pct(row.relative_bias)}{_band(row)}, {effects})."
        )
    over = (row.bias > 0) == (row.true_effect > 0)
    verb = "overstates" if over else "understates"
    return (
        f"{head} the test {verb} the treatment's effect on {what} by {fmt.pct(abs(row.relative_bias), signed=False)}"
        f"{_band(row)} ({effects}) because {_reason(over, treatment)}."
    )


def first_powered(tab: pd.DataFrame, design: Design, unit: str, share: float) -> pd.Series | None:
    """The shortest duration at which the design reaches the target power, if any."""
    r = tab[(tab.metric == design.metric) & (tab.unit == unit) & (tab.share == share)]
    r = r[r.power >= POWER_TARGET].sort_values("days")
    return None if r.empty else r.iloc[0]


def other_unit_sentence(tab: pd.DataFrame, design: Design, ties: float) -> str:
    """What the other unit of randomization does to bias and to the duration needed (``ties``: the share of
    friendships inside a network community)."""
    other = "cluster" if design.unit == "member" else "member"
    row = _row(tab, design, other, design.share, design.days)
    by = "by network community" if other == "cluster" else "member by member"
    bias = fmt.pct(row.relative_bias) + _band(row) if np.isfinite(row.relative_bias) else "undefined"
    powered = first_powered(tab, design, other, design.share)
    need = (
        f"needs {weeks(int(powered.days))} for {POWER_TARGET:.0%} power"
        if powered is not None
        else f"does not reach {POWER_TARGET:.0%} power within {weeks(design.days)} ({row.power:.0%})"
    )
    kept = f" (the communities hold {ties:.0%} of the friendships)"
    return f"Randomizing {by}{kept} instead leaves a bias of {bias} after {weeks(design.days)} and {need}."


def power_sentence(row: pd.Series, design: Design) -> str:
    relative = row.mde / abs(row.control_mean) if row.control_mean else np.nan
    share = f" ({fmt.pct(relative, signed=False)} of the control arm's mean)" if np.isfinite(relative) else ""
    return (
        f"The test asked for ({design.unit} randomization, {design.share:.0%} treated, {weeks(design.days)}) finds "
        f"the effect on {METRICS[design.metric][0]} at alpha {design.alpha:g} in {row.power:.0%} of replications; "
        f"its minimum detectable effect at {POWER_TARGET:.0%} power is {row.mde:.3g} per member{share}."
    )


def aa_sentence(tab: pd.DataFrame, design: Design) -> str:
    rows = tab[(tab.metric == design.metric) & (tab.days == design.days) & (tab.aa_tests > 0)]
    parts = [
        f"{r.unit} randomization {r.share:.0%} treated {r.aa_false_positive_rate:.1%} of {int(r.aa_tests)}"
        for r in rows.itertuples()
    ]
    return (
        f"A/A tests (arms drawn again on the untreated community) reject at alpha {design.alpha:g}: "
        + "; ".join(parts)
        + f" (expected {design.alpha:.0%})."
    )


def recommendation_sentence(best: pd.Series | None, design: Design) -> str:
    bound = f"within ±{design.max_bias:.0%}"
    if best is None:
        return (
            f"No design of the grid reaches {POWER_TARGET:.0%} power with a bias {bound} in {weeks(design.days)}: "
            "run longer (--days), on a larger community, or test a stronger treatment."
        )
    band = bias_band(best)
    if np.isfinite(band) and abs(best.relative_bias) + band <= design.max_bias:
        sure = f"{bound} with its band"
    else:  # the estimate is within the tolerance, the bias may not be
        reach = fmt.pct(abs(best.relative_bias) + band, signed=False) if np.isfinite(band) else "more"
        sure = f"its estimate {bound}, but the bias may reach {reach}: more --replications narrow it"
    return (
        f"Recommended: {best.unit} randomization with {best.share:.0%} treated for {weeks(int(best.days))} "
        f"({best.power:.0%} power; bias {fmt.pct(best.relative_bias)}{_band(best)}, {sure})."
    )


def sentences(
    tab: pd.DataFrame, design: Design, treatment: dict[str, str], best: pd.Series | None, ties: float
) -> list[str]:
    chosen = _row(tab, design, design.unit, design.share, design.days)
    return [
        bias_sentence(chosen, design, treatment),
        other_unit_sentence(tab, design, ties),
        power_sentence(chosen, design),
        aa_sentence(tab, design),
        recommendation_sentence(best, design),
    ]
