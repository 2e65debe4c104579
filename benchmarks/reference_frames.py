"""The core rules written the mesa-frames way: a second baseline, DataFrame-backed.

An optional comparison (``pip install --no-deps mesa-frames && pip install polars``): the people are
one ``AgentSetPolars`` whose ``agents`` is a polars DataFrame, one row per person
and one column per state variable, and a day is ``ModelDF.step()``, which calls
``People.step()``: the four core rules (visit, purchase, referral, churn) as
vectorized polars expressions over the whole frame, with the same equations,
parameters (``reference_mesa.Params``), scenario check and network
(``sim.core.network.build_network`` with the run's network stream) as the
plain-Mesa reference, ``benchmarks/reference_mesa.py``.

All people act at once, as in the engine: the day's decisions read the state at
the start of each phase, a prospect invited by several members joins once, a
member who joins today starts visiting tomorrow and draws churn today, and the
churned share of a member's contacts counts the churns of earlier days.

Written to be as fast as mesa-frames goes, so the comparison is fair:

- each phase is one lazy query (``with_columns`` chains that polars fuses and
  runs multi-threaded), and state never leaves the frame;
- per-segment parameters are columns joined once at setup, not looked up daily;
- the row of a person is its ``unique_id`` (no agent is ever removed), so the
  few rows a referral or a churn touches are reached with ``gather`` and
  ``scatter`` on columns instead of joins;
- numbers are drawn with the model's numpy generator (``ModelDF.random``), one
  per person for the decisions every member makes (visit, churn) and for the
  visitors' decisions, and only as many as needed for baskets, picked contacts
  and acceptances.
"""

from __future__ import annotations

import numpy as np
from reference_mesa import CHURNED, KPIS, MEMBER, PROSPECT, Params, check_core_rules

from sim.config.schema import Scenario
from sim.core.network import build_network
from sim.core.streams import Streams

INSTALL_HINT = "the mesa-frames comparison needs mesa-frames: pip install --no-deps mesa-frames && pip install polars"

try:
    import polars as pl
    from mesa_frames import AgentSetPolars, ModelDF
except ImportError as exc:  # an optional comparison: say how to get it
    raise ImportError(INSTALL_HINT) from exc


def logistic(x: pl.Expr) -> pl.Expr:
    return 1.0 / (1.0 + (-x).exp())  # one exp: a third of the time of tanh in polars


def clip01(x: pl.Expr) -> pl.Expr:
    return x.clip(0.0, 1.0)


class People(AgentSetPolars):
    """Everyone in the market, one row each; ``step()`` is one day of the four core rules."""

    def __init__(self, model: FramesModel, columns: dict[str, np.ndarray], contacts: np.ndarray) -> None:
        super().__init__(model)
        self.p = model.p
        self.contacts = pl.Series("contact", contacts, dtype=pl.Int64)  # CSR column indices of the network
        state = {k: v.astype(np.float32) if v.dtype == np.float64 else v for k, v in columns.items()}  # as the engine
        self.add(pl.DataFrame({"unique_id": np.arange(len(columns["status"]), dtype=np.int64), **state}))

    # -- the day ------------------------------------------------------------------------------------
    def step(self) -> None:
        model = self.model
        day, n, rng = model.day, len(self.agents), model.random
        df = self.visit_and_purchase(day, *(rng.random(n, dtype=np.float32) for _ in range(4)))
        today = model.today
        buyers = df.filter(pl.col("buy")).select("basket_mean", "basket_sigma")
        z = pl.Series(rng.standard_normal(len(buyers)))
        s = buyers["basket_sigma"]
        today["gmv"] = float((buyers["basket_mean"] * (s * z - 0.5 * s * s).exp()).sum())
        counts = df.select(pl.col("visited").sum().alias("dau"), pl.col("buy").sum().alias("purchases")).row(0)
        today["dau"], today["purchases"] = int(counts[0]), int(counts[1])
        joined = self.referrals(df, rng)
        df = self.join_and_churn(df, day, joined, rng.random(n, dtype=np.float32))
        self.agents = df
        self.spread_churn()

    def visit_and_purchase(self, day, u_visit, u_buy, u_quality, u_invite) -> pl.DataFrame:
        """Visits (engagement, fatigue, satisfaction), purchases and the decision to invite, in one query."""
        p = self.p
        c = pl.col
        active = (c("status") == MEMBER) & (c("active_from") <= day)
        x_visit = c("visit_base") + c("activity") + p.w_engagement * c("engagement") + p.w_appeal * p.appeal
        x_visit = x_visit - p.w_fatigue * c("fatigue")
        need = (
            pl.when(c("last_purchase") < 0).then(1.0).otherwise(1.0 - (-(day - c("last_purchase")) / c("cycle")).exp())
        )
        x_buy = c("buy_base") + p.w_need * (need - 1.0) + p.w_buy_sat * (c("satisfaction") - 0.5)
        experienced = clip01(p.quality + p.quality_spread * (2.0 * c("u_quality") - 1.0))
        x_invite = p.invite_base + p.w_invite_sat * (c("satisfaction") - 0.5)
        u = pl.DataFrame({"u_visit": u_visit, "u_buy": u_buy, "u_quality": u_quality, "u_invite": u_invite})
        return (
            self.agents.hstack(u)
            .lazy()
            .with_columns(active=active)
            .with_columns(visited=c("active") & (c("u_visit") < logistic(x_visit)))
            .with_columns(
                engagement=pl.when(c("visited"))
                .then(c("engagement") + p.learning_rate * (p.stimulus - c("engagement")))
                .when(c("active"))
                .then(c("engagement") * p.keep_engagement)
                .otherwise(c("engagement")),
                fatigue=pl.when(c("active"))
                .then(clip01(c("fatigue") * p.keep_fatigue + pl.when(c("visited")).then(p.feed_fatigue).otherwise(0.0)))
                .otherwise(c("fatigue")),
                satisfaction=pl.when(c("visited"))
                .then(clip01(c("satisfaction") + p.content_rate * (p.trust_target - c("satisfaction"))))
                .otherwise(c("satisfaction")),
                last_visit=pl.when(c("visited")).then(day).otherwise(c("last_visit")),
            )
            .with_columns(buy=c("visited") & (c("u_buy") < logistic(x_buy)))
            .with_columns(
                satisfaction=pl.when(c("buy"))
                .then(clip01(c("satisfaction") + p.product_rate * (experienced - c("satisfaction"))))
                .otherwise(c("satisfaction")),
                last_purchase=pl.when(c("buy")).then(day).otherwise(c("last_purchase")),
            )
            .with_columns(invite=c("visited") & (c("degree") > 0) & (c("u_invite") < logistic(x_invite)))
            .drop("u_visit", "u_buy", "u_quality", "u_invite")
            .collect()
        )

    def referrals(self, df: pl.DataFrame, rng: np.random.Generator) -> pl.Series:
        """Inviters pick a random contact; invited prospects accept or not. Returns the rows that join."""
        today = self.model.today
        inviters = df.filter(pl.col("invite")).select("nb_start", "degree")
        pick = pl.Series(rng.random(len(inviters)))
        slot = (inviters["nb_start"] + (pick * inviters["degree"]).floor().cast(pl.Int64)).cast(pl.Int64)
        targets = self.contacts.gather(slot)
        targets = targets.filter(df["status"].gather(targets) == PROSPECT)
        today["invitations"] = len(targets)
        accepted = targets.filter(pl.Series(rng.random(len(targets))) < self.p.acceptance).unique()
        today["referrals_accepted"] = len(accepted)
        return accepted

    def join_and_churn(self, df: pl.DataFrame, day: int, joined: pl.Series, u_churn) -> pl.DataFrame:
        """Today's invitees join (visiting from tomorrow), then every member draws churn."""
        p = self.p
        c = pl.col
        new = pl.Series(np.zeros(len(df), dtype=bool)).scatter(joined, True)
        share = pl.when(c("degree") > 0).then(c("churned_contacts") / c("degree")).otherwise(0.0)
        idle = ((day - c("last_visit")) * c("habit") * (p.w_idle / 30.0)).clip(upper_bound=p.max_idle)
        x_churn = (
            p.churn_base
            + p.w_churn_sat * (0.5 - c("satisfaction"))
            + idle
            + p.w_churn_fatigue * c("fatigue")
            + p.w_social * share
        )
        sat_join = clip01(p.initial_satisfaction + 0.1 * (c("trait_s") - 0.5) + p.referred_bonus)
        out = (
            df.hstack([pl.Series("new", new), pl.Series("u_churn", u_churn)])
            .lazy()
            .drop("active", "visited", "buy", "invite")
            .with_columns(
                status=pl.when(c("new")).then(pl.lit(MEMBER, pl.Int8)).otherwise(c("status")),
                last_visit=pl.when(c("new")).then(day).otherwise(c("last_visit")),
                active_from=pl.when(c("new")).then(day + 1).otherwise(c("active_from")),
                engagement=pl.when(c("new"))
                .then(clip01(p.initial_engagement * (0.5 + c("trait_e"))))
                .otherwise(c("engagement")),
                satisfaction=pl.when(c("new")).then(sat_join).otherwise(c("satisfaction")),
                fatigue=pl.when(c("new")).then(0.0).otherwise(c("fatigue")),
            )
            .with_columns(leave=(c("status") == MEMBER) & (c("u_churn") < logistic(x_churn)))
            .with_columns(status=pl.when(c("leave")).then(pl.lit(CHURNED, pl.Int8)).otherwise(c("status")))
            .drop("new", "u_churn")
            .collect()
        )
        counts = out.select(
            pl.col("leave").sum().alias("churned"), (pl.col("status") == MEMBER).sum().alias("members")
        ).row(0)
        self.model.today["churned"], self.model.today["members"] = int(counts[0]), int(counts[1])
        return out

    def spread_churn(self) -> None:
        """Every contact of today's leavers counts one more churned contact."""
        df = self.agents
        leavers = df.filter(pl.col("leave")).select("nb_start", "degree")
        self.agents = df.drop("leave")
        if len(leavers) == 0:
            return
        slots = leavers.select(pl.int_ranges("nb_start", pl.col("nb_start") + pl.col("degree"))).to_series().explode()
        hit = self.contacts.gather(slots.drop_nulls()).value_counts()
        rows, more = hit["contact"], hit["count"].cast(pl.Int32)
        cc = self.agents["churned_contacts"].clone()
        cc.scatter(rows, cc.gather(rows) + more)
        self.agents = self.agents.with_columns(churned_contacts=cc)


class FramesModel(ModelDF):
    """The mesa-frames community: ``step()`` is one day, ``People.step()`` over the whole frame."""

    def __init__(self, scenario: Scenario, *, seed: int | None = None) -> None:
        check_core_rules(scenario)
        seed = scenario.seed if seed is None else int(seed)
        super().__init__(seed)
        self.p = p = Params(scenario)
        self.day = 0
        self.rows: list[dict] = []
        self.today = dict.fromkeys(KPIS, 0)
        n = scenario.market.size
        # the engine's network for this seed, node for node
        net = build_network(scenario.market.network, n, Streams(seed)["network"])
        rng = self.random
        shares = np.array([g.share for g in scenario.market.segments])
        segment = rng.choice(len(shares), size=n, p=shares / shares.sum())
        traits = rng.random((n, 2))
        activity = p.sigma * rng.standard_normal(n) - p.sigma * p.sigma / 2
        trait_e, trait_s = traits[:, 0], traits[:, 1]
        status = np.full(n, PROSPECT, dtype=np.int8)
        first = rng.choice(n, size=scenario.acquisition.initial_members, replace=False)
        status[first] = MEMBER
        founder = status == MEMBER
        seg = {k: np.asarray(getattr(p, k), dtype=np.float64)[segment] for k in ("visit_base", "buy_base", "cycle")}
        seg |= {k: np.asarray(getattr(p, k), dtype=np.float64)[segment] for k in ("basket_mean", "basket_sigma")}
        columns = {
            "status": status,
            "activity": activity,
            "habit": np.exp(activity),
            "trait_e": trait_e,
            "trait_s": trait_s,
            "engagement": np.where(founder, np.clip(p.initial_engagement * (0.5 + trait_e), 0, 1), 0.0),
            "satisfaction": np.where(founder, np.clip(p.initial_satisfaction + 0.1 * (trait_s - 0.5), 0, 1), 0.0),
            "fatigue": np.zeros(n),
            "last_visit": np.where(founder, 0, -1).astype(np.int32),
            "last_purchase": np.full(n, -1, dtype=np.int32),
            "active_from": np.zeros(n, dtype=np.int32),
            "churned_contacts": np.zeros(n, dtype=np.int32),
            "nb_start": net.indptr[:-1].astype(np.int64),
            "degree": np.diff(net.indptr).astype(np.int32),
            **seg,
        }
        self.people = People(self, columns, net.indices)
        self.agents += self.people

    def step(self) -> None:
        self.today = dict.fromkeys(KPIS, 0)
        self.agents.step()
        self.rows.append(self.today)
        self.day += 1

    def run(self, days: int) -> None:
        for _ in range(days):
            self.step()

    def timeseries(self):
        import pandas as pd

        df = pd.DataFrame(self.rows, columns=list(KPIS))
        df.index.name = "day"
        return df
