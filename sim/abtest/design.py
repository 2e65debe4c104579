"""What an A/B test simulation is asked to do: the treatment, the outcome, and the grid of designs.

A treatment is a list of ``key=value`` overrides that the treated arm gets; every key must be one
the mechanisms read per person (``sim.mechanisms.registry.TARGETABLE``), since a test can only
give a lever to some members if the model applies it member by member.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.config import keypath
from sim.config.errors import ScenarioError
from sim.config.loader import revise_scenario
from sim.config.schema import Scenario
from sim.mechanisms.registry import TARGETABLE

UNITS = ("member", "cluster")
#: Per-member outcomes over the test: name -> (what it counts, whether it is a yes/no outcome).
METRICS: dict[str, tuple[str, bool]] = {
    "joins": ("friends brought in by referral", False),
    "purchases": ("purchases", False),
    "spend": ("spend (CNY)", False),
    "churned": ("share who left", True),
}
#: Treated shares every simulation covers besides the one asked for.
GRID_SHARES = (0.2, 0.5)


class AbtestError(Exception):
    """Bad input to abtest (reported with exit code 2)."""


@dataclass(frozen=True)
class Design:
    """The test asked for and the grid around it."""

    unit: str
    share: float
    days: int  # the test's duration; durations in whole weeks up to it are evaluated too
    warmup: int  # days the community runs before the test starts (its members then are the test's members)
    alpha: float
    metric: str
    max_bias: float  # largest acceptable |spillover bias| as a share of the true effect, for the recommendation
    shares: tuple[float, ...]

    @property
    def checkpoints(self) -> tuple[int, ...]:
        """Durations evaluated: every whole week up to ``days``, and ``days``."""
        return tuple(sorted({*range(7, self.days, 7), self.days}))


def parse_treatment(items: list[str]) -> dict[str, str]:
    """``["referral.reward_inviter=20"]`` -> ``{"referral.reward_inviter": "20"}``; refuses keys a test
    cannot give to some members only, naming them and listing those it can."""
    if not items:
        raise AbtestError("give at least one --treatment key=value, e.g. --treatment referral.reward_inviter=20")
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise AbtestError(f"--treatment {item!r}: expected key=value, e.g. referral.reward_inviter=20")
        try:
            key = keypath.canonical(key.strip())
        except keypath.KeyPathError as exc:
            raise AbtestError(f"--treatment {item!r}: {exc}") from None
        if key in out:
            raise AbtestError(f"--treatment {key}: given twice; give each key once")
        if key not in TARGETABLE and not _is_scenario_key(key):
            raise AbtestError(
                f"--treatment {key}: unknown scenario key; keys that can be tested: {', '.join(TARGETABLE)}"
            )
        if key not in TARGETABLE:
            raise AbtestError(
                f"--treatment {key}: this lever cannot be given to some members only (it acts on the whole "
                f"community), so it cannot be A/B tested inside one community; keys that can: {', '.join(TARGETABLE)}"
            )
        out[key] = value.strip()
    return out


def _is_scenario_key(key: str) -> bool:
    """Whether ``key`` names a field of the scenario schema (a sub-model's field, at any depth)."""
    model: object = Scenario
    for token in keypath.split(key):
        fields = getattr(model, "model_fields", None)
        if not isinstance(token, str) or fields is None or token not in fields:
            return False
        model = fields[token].annotation
    return True


def _value(doc: dict, key: str) -> object:
    for token in keypath.split(key):
        doc = doc[token]
    return doc


def treated_scenario(base: Scenario, treatment: dict[str, str]) -> Scenario:
    """``base`` with the treatment's values: the scenario the treated arm lives under. Refuses a treatment
    that changes nothing: a value the scenario already has, or a program's setting while the program is off
    in both arms (a test of it would report an effect of zero as if it had been measured)."""
    try:
        treated = revise_scenario(base, [f"{k}={v}" for k, v in treatment.items()])
    except ScenarioError as exc:
        raise AbtestError("--treatment: " + "; ".join(str(p) for p in exc.problems)) from None
    before, after = base.model_dump(mode="json"), treated.model_dump(mode="json")
    for key in treatment:
        if _value(before, key) == _value(after, key):
            raise AbtestError(
                f"--treatment {key}: the scenario's value is already {_value(before, key)}, so the treatment "
                "changes nothing; give a different value"
            )
        switch = key.rsplit(".", 1)[0] + ".enabled"
        if key != switch and _is_scenario_key(switch) and not (_value(before, switch) or _value(after, switch)):
            raise AbtestError(
                f"--treatment {key}: {switch} is false in the scenario and in the treatment, so the treatment "
                f"changes nothing; turn the program on with --set {switch}=true or --treatment {switch}=true"
            )
    return treated


def default_metric(treatment: dict[str, str]) -> str:
    """The outcome a team would judge the treatment on: joins for a referral reward, else purchases."""
    return "joins" if all(k.startswith("referral.") for k in treatment) else "purchases"


def make_design(
    scenario: Scenario,
    treatment: dict[str, str],
    *,
    unit: str,
    share: float,
    days: int,
    warmup: int,
    alpha: float,
    metric: str | None,
    max_bias: float,
) -> Design:
    """Check the options and build the design (the grid's shares include ``share``)."""
    if unit not in UNITS:
        raise AbtestError(f"--unit {unit!r}: expected one of {', '.join(UNITS)}")
    if not 0.0 < share < 1.0:
        raise AbtestError(f"--share {share}: the treated share must be between 0 and 1 (exclusive)")
    if not max_bias > 0.0:
        raise AbtestError(f"--max-bias {max_bias}: expected a positive bound on |bias| / true effect, e.g. 0.1")
    if not 0.0 < alpha < 0.5:
        raise AbtestError(f"--alpha {alpha}: expected a significance level between 0 and 0.5")
    metric = metric or default_metric(treatment)
    if metric not in METRICS:
        raise AbtestError(f"--metric {metric!r}: expected one of {', '.join(METRICS)}")
    if scenario.market.network.kind == "complete":
        raise AbtestError(
            "the scenario's network is complete (market.network.kind: complete): everyone meets everyone, "
            "so there are no clusters to randomize and every treated member reaches every control member"
        )
    return Design(unit, share, days, warmup, alpha, metric, max_bias, tuple(sorted({*GRID_SHARES, share})))
