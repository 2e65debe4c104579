"""Key paths: one grammar for --set, sweep factors, --fit and the dashboard; one path, one spelling."""

from __future__ import annotations

import pytest

from sim.calibration import CalibrationError
from sim.calibration.params import parse_fit
from sim.config.errors import ScenarioError
from sim.config.keypath import KeyPathError, canonical, split
from sim.config.loader import load_scenario
from sim.experiment.resolve import resolve_experiment
from tests.experiment_helpers import SMOKE, write_experiment


@pytest.mark.parametrize(
    "path, tokens",
    [
        ("market.segments[1].share", ("market", "segments", 1, "share")),
        ("market.segments.1.share", ("market", "segments", 1, "share")),
        ("a[0][2]", ("a", 0, 2)),
        ("days", ("days",)),
    ],
)
def test_both_spellings_split_alike(path, tokens):
    assert split(path) == tokens
    assert canonical(path) == canonical(".".join(map(str, tokens)))


@pytest.mark.parametrize("path", ["", "a..b", "a.", "a[x]", "a]b", "[0]x", "a[²]", "a[٣]"])
def test_malformed_paths_name_themselves(path):
    with pytest.raises(KeyPathError, match="malformed key path"):
        split(path)


def test_a_factor_under_two_spellings_is_refused(tmp_path):
    body = """\
    seed: 1
    factors:
      market.segments[0].basket_mean: [10, 100000]
      market.segments.0.basket_mean: [50]
    """
    path = write_experiment(tmp_path, body)
    with pytest.raises(ScenarioError) as info:
        resolve_experiment(path)
    text = str(info.value)
    assert "market.segments.0.basket_mean" in text and "market.segments[0].basket_mean" in text
    assert "names the same key as" in text and ":6:" in text


def test_one_key_set_twice_under_two_spellings_is_refused():
    with pytest.raises(ScenarioError) as info:
        load_scenario(SMOKE, ["market.segments[0].basket_mean=10", "market.segments.0.basket_mean=50"])
    text = str(info.value)
    assert text.startswith("--set market.segments.0.basket_mean=50: market.segments[0].basket_mean:")
    assert "also set by --set market.segments[0].basket_mean=10" in text


def test_a_key_and_its_section_set_together_are_refused(tmp_path):
    """``market.size`` and ``market: {size: ...}`` in one experiment's ``set:``: one would silently win."""
    body = """\
    seed: 1
    set: {days: 3, market.size: 300, market: {size: 400}}
    factors:
      referral.reward_inviter: [0, 10]
    """
    path = write_experiment(tmp_path, body, small=False)
    with pytest.raises(ScenarioError) as info:
        resolve_experiment(path)
    assert "also set by --set market.size=300" in str(info.value)
    with pytest.raises(ScenarioError, match="also set by --set content.mix"):
        load_scenario(SMOKE, ['content.mix={"educational": 1.0}', "content.mix.promotional=0.3"])
    load_scenario(SMOKE, ["market.size=500", "market.network.kind=complete"])  # siblings are fine


def test_fit_takes_both_spellings_and_refuses_them_together(tmp_path):
    from sim.calibration.cli import calibrate

    base = load_scenario(SMOKE).model_dump(mode="json")
    assert parse_fit("market.segments.0.basket_mean=50:100", base).path == "market.segments[0].basket_mean"
    csv = tmp_path / "obs.csv"
    csv.write_text("day,members\n0,1\n1,2\n", encoding="utf-8")
    fits = ["market.segments[0].basket_mean=50:100", "market.segments.0.basket_mean=60:90"]
    with pytest.raises(CalibrationError, match=r"market.segments\[0\].basket_mean is given to --fit more than once"):
        calibrate(SMOKE, observed=csv, fit=fits, target=[], out=tmp_path / "out")


def test_digits_of_other_scripts_are_names_not_indexes():
    assert split("market.²") == ("market", "²") and split("a.٣.b") == ("a", "٣", "b")
    assert split("a.3.b") == ("a", 3, "b")
