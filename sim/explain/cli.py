"""``community-sim explain A.yaml B.yaml``: attribute B - A to the groups of changed keys."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from rich.markup import escape

from sim.cli.errors import UserError
from sim.cli.output import Steps, plain_console
from sim.compare.cli import CompareError, check_horizons, file_labels, simulate_ensemble
from sim.config.loader import load_scenario
from sim.experiment.kpis import expand
from sim.explain import shapley
from sim.explain.attribution import attribute, plan
from sim.explain.changes import changed_keys, group_keys
from sim.explain.coalitions import CoalitionError, evaluate
from sim.explain.plots import plot_waterfall
from sim.explain.report import explain_section, write_page
from sim.explain.words import label_of, sentences, unit_of
from sim.observe.metrics import KPI_NAMES
from sim.run.atomic import atomic_directory, check_destination, default_output_dir, release

_GROUP = re.compile(r"^\s*([^=\s][^=]*?)\s*=\s*(.+)$")


def parse_kpis(text: str, days: int) -> list[str]:
    """``profit,members`` -> ``[final.profit, final.members]``; exact columns (``w90.gmv``) as given; a KPI of
    the time series only (``koc_posts``) as ``run.koc_posts``, its run total (flows) or last value (stocks)."""
    out = []
    for name in [n.strip() for n in text.split(",") if n.strip()]:
        series = name.removeprefix("run.")
        columns, problems = expand([name], days)
        if series in KPI_NAMES and (problems or name != series):
            out.append(f"run.{series}")
            continue
        if problems:
            raise UserError(f"--kpi: {problems[0][1]}")
        out.append(columns[0])
    if not out:
        raise UserError("--kpi names no KPI; give e.g. --kpi profit,members,churned")
    return list(dict.fromkeys(out))


def parse_groups(options: list[str], path: Path | None) -> dict[str, list[str]]:
    """Hand-made groups from ``--group NAME=key,key`` and a YAML file ``{NAME: [key, ...]}``."""
    groups: dict[str, list[str]] = {}
    if path is not None:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise UserError(f"--groups {path}: cannot be read ({str(exc).splitlines()[0]})") from None
        if not isinstance(doc, dict):
            raise UserError(f"--groups {path}: give a mapping of group names to lists of keys")
        for name, keys in doc.items():
            if isinstance(keys, str):
                keys = [keys]
            if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
                raise UserError(f"{path}: group {name!r}: give a list of scenario keys, e.g. [referral.reward_cap]")
            groups[str(name)] = keys
    for option in options:
        m = _GROUP.match(option)
        if not m:
            raise UserError(
                f"--group {option!r}: write NAME=key[,key...], e.g. --group rewards=referral.reward_inviter"
            )
        groups[m.group(1)] = [k.strip() for k in m.group(2).split(",") if k.strip()]
    return groups


def explain_command(
    a_path: Path,
    b_path: Path,
    kpi: str,
    replications: int,
    days: int | None,
    out: Path | None,
    seed: int,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    group: list[str],
    groups_file: Path | None,
    orders: int,
    overrides: list[str],
    quiet: bool,
    results: Path = Path("results"),
) -> Path:
    if out is not None:
        check_destination(out)
    scenarios = [load_scenario(p, overrides, days=days) for p in (a_path, b_path)]
    try:
        check_horizons([a_path, b_path], scenarios)
    except CompareError as exc:
        raise UserError(str(exc)) from None
    a_name, b_name = file_labels([a_path, b_path], scenarios)
    kpis = parse_kpis(kpi, scenarios[0].days)
    a, b = (s.model_dump(mode="json") for s in scenarios)
    keys = changed_keys(a, b)
    if not keys:
        raise UserError(f"{a_path} and {b_path} simulate the same community (they differ in labels at most)")
    try:
        groups = group_keys(keys, parse_groups(group, groups_file))
    except ValueError as exc:
        raise UserError(f"--group: {exc}") from None
    masks, drawn = plan(len(groups), orders, seed)
    out_dir = out if out is not None else default_output_dir(results, "explain")
    try:
        try:
            ev = evaluate(
                a, b, groups, masks, kpis, replications, seed,
                run=lambda sc, lb, r, s, **kw: simulate_ensemble(sc, lb, r, s, executor, workers, scheduler, quiet),
            )  # fmt: skip
        except CoalitionError as exc:
            raise UserError(str(exc)) from None
        att = attribute(ev, groups, kpis, drawn)
        said = sentences(att, a_name, b_name, scenarios[0].days, replications)
        with Steps(quiet) as steps, atomic_directory(out_dir) as tmp:
            steps.step("explain: tables and figures")
            att.table.to_csv(tmp / "attribution.csv", index=False, float_format="%.6g", lineterminator="\n")
            att.breakdown.to_csv(tmp / "breakdown.csv", index=False, float_format="%.6g", lineterminator="\n")
            figures = {}
            for k, rows in att.table.groupby("kpi", sort=False):
                name = str(k).replace(".", "_")
                figures[str(k)] = plot_waterfall(
                    rows, a_name, b_name, label_of(str(k)), unit_of(str(k)), tmp / f"waterfall_{name}.png"
                )
            section = explain_section(att, said, figures, a, b, groups)
            write_page(tmp / "report.html", f"Why {b_name} differs from {a_name}", section)
            (tmp / "summary.txt").write_text("\n".join(said) + "\n", encoding="utf-8")
    finally:
        release(out_dir)
    if not quiet:
        console = plain_console()
        for s in said:
            console.print(f"• {escape(s)}", highlight=False)
        runs = len(masks) * replications
        exact = len(groups) <= shapley.MAX_EXACT_GROUPS
        console.print(f"{len(groups)} groups, {len(masks)} coalitions ({'all' if exact else 'sampled'}), {runs} runs")
    print(f"wrote {out_dir}")
    return out_dir
