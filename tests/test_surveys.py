"""Surveys and the product iteration they drive: direction, bounds, money, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from sim.cli import main
from sim.core.ledger import CATEGORIES
from sim.mechanisms.surveys import Product
from sim.model import CommunityModel
from tests.conftest import small

FAST = {"every_days": 20, "lag_days": 5, "rollout_days": 5}  # improvements reach buyers within a short run


def surveyed(days: int = 120, seed: int = 1, purchase: dict | None = None, **surveys) -> CommunityModel:
    """A small run with surveys on (``surveys`` over ``FAST``), run to the end."""
    scenario = small(
        days=days,
        seed=seed,
        operators={"surveys": {"enabled": True, **FAST, **surveys}},
        **({"purchase": purchase} if purchase else {}),
    )
    model = CommunityModel(scenario)
    model.run()
    return model


def test_planned_steps_shrink_toward_the_ceiling_and_never_pass_it():
    product = Product(start=0.5, quality=0.5, planned=0.5)
    sizes = [product.plan(day, insight=1.0, gain=1.0 if day == 9 else 0.4, ceiling=0.8) for day in range(10)]
    assert all(b < a for a, b in zip(sizes[:8], sizes[1:9], strict=True))  # diminishing returns
    assert product.planned == pytest.approx(0.8) and product.planned <= 0.8
    for day in range(40):
        product.roll_out(day, rollout_days=7)
        assert 0.5 <= product.quality <= product.planned <= 0.8
    assert product.quality == pytest.approx(0.8)


def test_a_step_reaches_buyers_after_the_lag_and_phases_in_evenly():
    product = Product(start=0.6, quality=0.6, planned=0.6)
    size = product.plan(10, insight=0.5, gain=0.4, ceiling=0.9)  # planned on day 10 for day 10 on
    assert size == pytest.approx(0.4 * 0.5 * 0.3)
    seen = []
    for day in range(8, 16):
        product.roll_out(day, rollout_days=4)
        seen.append(product.quality - 0.6)
    assert seen == pytest.approx([0, 0, size / 4, size / 2, 3 * size / 4, size, size, size])


def test_more_answers_raise_quality_faster():
    few = surveyed(response_rate=0.02).timeseries()
    many = surveyed(response_rate=0.5).timeseries()
    assert many["survey_responses"].sum() > 5 * few["survey_responses"].sum() > 0
    assert (many["product_quality"] >= few["product_quality"]).all()
    assert many["product_quality"].iloc[-1] > few["product_quality"].iloc[-1] + 0.02


def test_without_surveys_quality_and_purchases_stay_as_they_were():
    on = surveyed(response_rate=0.0, days=60).timeseries()
    off = CommunityModel(small(days=60, seed=1))
    off.run()
    assert (on["product_quality"] == 0.75).all() and on["survey_responses"].sum() == 0
    assert on["purchases"].tolist() == off.timeseries()["purchases"].tolist()  # zero answers, zero effect


def _repeat_purchases(model: CommunityModel) -> int:
    """Purchases beyond each person's first."""
    p = model.pop.purchases
    return int(p.sum() - np.count_nonzero(p))


def test_a_better_product_is_bought_again_more():
    fast = {"response_rate": 0.5, "iteration_gain": 1.0, "response_saturation": 1.0}
    same, better = [], []
    for seed in (1, 2):
        same.append(_repeat_purchases(surveyed(seed=seed, quality_ceiling=0.75, **fast)))
        better.append(_repeat_purchases(surveyed(seed=seed, quality_ceiling=0.95, **fast)))
    assert sum(better) > 1.1 * sum(same)
    # and through the direct term: with it off, the improvement pulls only satisfaction
    weak = sum(
        _repeat_purchases(surveyed(seed=s, quality_ceiling=0.95, purchase={"quality_weight": 0}, **fast))
        for s in (1, 2)
    )
    assert sum(same) <= weak < sum(better)


def test_quality_stays_in_bounds_and_survey_costs_add_up_every_day():
    cfg = {"response_rate": 0.3, "iteration_gain": 0.6, "quality_ceiling": 0.85, "cost_per_survey": 700.0}
    model = CommunityModel(small(days=90, operators={"surveys": {"enabled": True, **FAST, **cfg}}))
    surveys = answers = 0
    for _ in range(90):
        model.step()
        row = model.today
        assert 0.75 <= row["product_quality"] <= 0.85
        surveys += (model.day.day + 1) % FAST["every_days"] == 0
        answers += row["survey_responses"]
        assert row["survey_responses"] <= row["mau"]
        assert row["line_surveys"] == pytest.approx(
            700.0 * ((model.day.day + 1) % FAST["every_days"] == 0) + 5.0 * row["survey_responses"]
        )
        assert row["cost_operators"] == pytest.approx(row["line_operator_salaries"] + row["line_surveys"])
        assert row["cost_total"] == pytest.approx(sum(row[f"cost_{c}"] for c in CATEGORIES))
        assert row["profit"] == pytest.approx(row["gross_margin"] - row["cost_total"])
    assert surveys == 4 and answers > 0
    assert model.timeseries()["line_surveys"].sum() == pytest.approx(4 * 700.0 + 5.0 * answers)


def test_same_seed_same_survey_answers_and_quality():
    a, b = surveyed(days=60).timeseries(), surveyed(days=60).timeseries()
    assert a[["survey_responses", "product_quality", "purchases"]].equals(
        b[["survey_responses", "product_quality", "purchases"]]
    )


def test_a_ceiling_below_the_product_is_refused_with_its_key(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text("purchase: {product_quality: 0.8}\noperators:\n  surveys: {enabled: true, quality_ceiling: 0.7}\n")
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "operators.surveys.quality_ceiling (0.7) is below purchase.product_quality (0.8)" in err
    assert str(path) in err and "Traceback" not in err
