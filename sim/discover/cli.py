"""``community-sim discover SWEEP_DIR``: the factor ranges where a strategy's runs turn bad (or good)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.markup import escape

from sim.cli.errors import UserError
from sim.cli.output import plain_console
from sim.discover import prim
from sim.discover.boxes import (
    box_rows,
    box_sentence,
    loss_sentence,
    no_finding_sentence,
    significance_sentence,
    trajectory_frame,
)
from sim.discover.target import DiscoverError, question
from sim.experiment.analysis import AnalysisError, check_not_a_file
from sim.run.atomic import atomic_directory, check_destination


def discover_command(
    sweep_dir: Path,
    kpi: str,
    below: float | None,
    above: float | None,
    worst: float | None,
    method: str,
    out: Path | None,
    peel_alpha: float,
    mass_min: float,
    paste: bool,
    box: int | None,
    quiet: bool,
) -> Path:
    if method not in ("prim", "cart"):
        raise UserError(f"--method {method!r}: use prim or cart")
    try:
        check_not_a_file(sweep_dir)  # before its default output directory is named inside it
    except AnalysisError as exc:
        raise UserError(str(exc)) from None
    out = out if out is not None else sweep_dir / f"discover-{method}"
    check_destination(out)
    try:
        q = question(sweep_dir, kpi, below, above, worst)
        if method == "cart":
            from sim.discover.cart import fit_tree, leaf_p_values, leaves

            tree = fit_tree(q.x, q.cases, mass_min)
            found = [s for s in leaves(tree, q.x, q.cases) if s.density > q.cases.mean()]
    except DiscoverError as exc:
        raise UserError(str(exc)) from None
    with atomic_directory(out) as tmp:
        if method == "prim":
            said = _prim(q, tmp, peel_alpha, mass_min, paste, box)
        else:
            from sim.discover.plots import plot_tree

            rows = [r for i, s in enumerate(found) for r in box_rows(q, s, f"leaf {i + 1}", "cart")]
            pd.DataFrame(rows).to_csv(tmp / "boxes.csv", index=False, float_format="%.6g", lineterminator="\n")
            plot_tree(tree, q, tmp / "tree.png")
            shown = found[:3]
            p_values = leaf_p_values(q.x, q.cases, shown, mass_min)
            said = [leaf_sentence(q, s, i + 1, p) for i, (s, p) in enumerate(zip(shown, p_values, strict=True))]
            if found:
                from sim.discover.plots import plot_box

                plot_box(q, found[0], tmp / "box.png")
        said = [s for s in (loss_sentence(q), *said) if s]
        (tmp / "summary.txt").write_text("\n".join(said) + "\n", encoding="utf-8")
    if not quiet:
        for s in said:
            plain_console().print(f"• {escape(s)}", highlight=False)
    print(f"wrote {out}")
    return out


#: A leaf whose permutation p-value is at least this is not stated as a finding.
LEAF_ALPHA = 0.05


def leaf_sentence(q, leaf, number: int, p: float) -> str:
    """A CART leaf as a finding when its permutation p-value (``cart.leaf_p_values``) is below ``LEAF_ALPHA``."""
    text = box_sentence(q, leaf, f"Leaf {number}: ").rstrip(".")
    if p < LEAF_ALPHA:
        return f"{text}; p = {p:.2g} against trees grown on shuffled cases."
    return (
        f"{text}; p = {p:.2g} against trees grown on shuffled cases, not significant at {LEAF_ALPHA:g}: a tree "
        "finds a leaf like it in runs where the cases fall by chance, so it is not a finding."
    )


def _prim(q, tmp: Path, peel_alpha: float, mass_min: float, paste: bool, box: int | None) -> list[str]:
    """PRIM's tables, figures and sentences into ``tmp``."""
    from sim.discover.plots import plot_box, plot_trajectory

    trajectory = prim.peel(q.x, q.cases, peel_alpha, mass_min)
    if box is not None and not 0 <= box < len(trajectory):
        raise UserError(f"--box {box}: the peeling trajectory has boxes 0 to {len(trajectory) - 1}")
    chosen = prim.choose(trajectory) if box is None else box
    pasted = prim.paste(q.x, q.cases, trajectory[chosen], peel_alpha, mass_min) if paste else []
    if pasted:
        trajectory = trajectory[: chosen + 1] + pasted
        chosen = len(trajectory) - 1
    step = trajectory[chosen]
    qp = prim.quasi_p(q.x, q.cases, step)
    simple = prim.significant_only(q.x, q.cases, step, qp)
    rows = box_rows(q, simple, "significant limits", "prim") + box_rows(q, step, "peeled", "prim", qp)
    pd.DataFrame(rows).to_csv(tmp / "boxes.csv", index=False, float_format="%.6g", lineterminator="\n")
    trajectory_frame(trajectory, len(pasted)).to_csv(
        tmp / "trajectory.csv", index=False, float_format="%.6g", lineterminator="\n"
    )
    plot_trajectory(trajectory, chosen, len(pasted), tmp / "trajectory.png", simple)
    if simple.restricted or not step.restricted:
        plot_box(q, simple if simple.restricted else step, tmp / "box.png")
        return [box_sentence(q, simple if simple.restricted else step), significance_sentence(q, qp, step)]
    # PRIM peeled a box, but none of its limits is significant: the box is drawn as such, not stated as a finding
    plot_box(q, step, tmp / "box.png", note="no limit significant")
    return [no_finding_sentence(q), significance_sentence(q, qp, step)]
