"""The core rules written the plain Mesa way: the baseline the engine is measured against.

Every person is a ``RefMember(mesa.Agent)`` holding its own state as Python
attributes, and a day is one ``step()`` per agent in random order
(``AgentSet.shuffle_do("step")``). The rules are the engine's equations for the
four core mechanisms, on the same network (``sim.core.network.build_network`` with the
run's network stream) and with the same parameters, read from the same scenario:

- visit: ``logistic(logit(b) + ln(a_g) + a_i + w_e e - w_f f + w_a A)`` with ``a_i`` the person's
  activity offset (log-normal odds, ``sim.core.population.personal_activity``), then engagement
  moves toward the day's stimulus (decays without a visit), fatigue recovers, and
  satisfaction moves toward the feed's trust value (sim/mechanisms/engagement.py);
- purchase by a visitor: ``logistic(logit(b) + w_n (need - 1) + w_s (s - 0.5) + w_d d r_g)``
  with need = 1 - exp(-days since the last purchase / cycle_g), a lognormal basket,
  and experienced quality pulling satisfaction (sim/mechanisms/purchase.py);
- referral by a visitor: ``logistic(logit(b) + w_s (s - 0.5))``, one random contact,
  accepted by a prospect with the base acceptance (sim/mechanisms/referral.py);
- churn: ``logistic(logit(h0) + w_s (0.5 - s) + min(w_a idle exp(a_i) / 30, cap) + w_f f + w_c churned share)``
  (sim/mechanisms/churn.py).

It runs only scenarios in which nothing else acts (``benchmarks/core_rules.yaml``):
no feed (brand posts and member posts off), so appeal, content effects and the
feed's fatigue are constants (zero) and trust is 0.3; no questions, KOCs,
incentives, events, sentiment, operations, paid or organic acquisition. What
remains different from the engine is the order of updates within a day, inherent
to stepping agents one by one (see docs/performance.md): an agent reacts to what
agents stepped before it did today (a contact who churned an hour ago already
counts), a prospect invited by two members draws two acceptances instead of one,
and a member who joins today starts visiting tomorrow but may churn today only if
its own step comes after the invitation.

Written to be as fast as plain Python goes, so the comparison is fair: stdlib
``random`` draws through the model's ``self.random``, ``math`` for the logistic,
contacts as lists of agents, and running counters instead of scans.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from sim.config.schema import Scenario
from sim.core.network import build_network
from sim.core.streams import Streams

PROSPECT, MEMBER, CHURNED = 0, 1, 2
KPIS = ("members", "dau", "purchases", "gmv", "invitations", "referrals_accepted", "churned")


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def logistic(x: float) -> float:
    return 0.5 * (1.0 + math.tanh(0.5 * x))


def check_core_rules(s: Scenario) -> None:
    """Refuse a scenario in which anything beyond the four core rules would act."""
    inc = s.incentives
    off = {
        "content.posts_per_day": s.content.posts_per_day == 0,
        "content.member_ugc_prob": s.content.member_ugc_prob == 0,
        "engagement.question_prob": s.engagement.question_prob == 0,
        "koc.initial_count": s.koc.initial_count == 0 and not s.koc.incubation.enabled,
        "acquisition.paid.daily_budget": s.acquisition.paid.daily_budget == 0,
        "acquisition.organic": s.acquisition.organic.p == 0 and s.acquisition.organic.q == 0,
        "acquisition.winback_prob": s.acquisition.winback_prob == 0,
        "referral rewards": s.referral.reward_inviter == 0 and s.referral.reward_invitee == 0,
        "referral.second_level_reward": s.referral.second_level_reward == 0,
        "incentives": not any(getattr(inc, name).enabled for name in type(inc).model_fields),
        "events": not s.events,
        "rules": not s.rules.enabled,
        "livestream": not s.livestream.enabled,
        "operators.outreach": not s.operators.outreach.enabled,
        "content.themed_columns": not s.content.themed_columns.enabled,
        "market.network.kind": s.market.network.kind != "complete",
    }
    bad = [k for k, ok in off.items() if not ok]
    if bad:
        raise ValueError(f"the reference model runs the core rules only; switch off: {', '.join(bad)}")


class RefMember(mesa.Agent):
    """A person of the market: prospect, member or churned, with its state as attributes."""

    def __init__(self, model: RefModel, segment: int, trait_e: float, trait_s: float, activity: float) -> None:
        super().__init__(model)
        self.status = PROSPECT
        self.segment = segment
        self.activity, self.habit = activity, math.exp(activity)  # fixed at birth: how often this person visits
        self.trait_e, self.trait_s = trait_e, trait_s  # fixed at birth: starting engagement and satisfaction
        self.contacts: list[RefMember] = []
        self.churned_contacts = 0
        self.engagement = self.satisfaction = self.fatigue = 0.0
        self.last_visit = self.last_purchase = -1
        self.active_from = 0  # first day of visits (the day after joining by referral)
        self.purchases = 0

    def join(self, day: int, referred: bool) -> None:
        p = self.model.p
        self.status = MEMBER
        self.last_visit = day
        self.active_from = day + 1 if referred else day
        self.engagement = min(max(p.initial_engagement * (0.5 + self.trait_e), 0.0), 1.0)
        sat = p.initial_satisfaction + 0.1 * (self.trait_s - 0.5) + (p.referred_bonus if referred else 0.0)
        self.satisfaction = min(max(sat, 0.0), 1.0)
        self.fatigue = 0.0
        self.model.members += 1

    def step(self) -> None:
        """One day of a member: visit (then perhaps buy and invite), then the churn draw."""
        if self.status != MEMBER:
            return
        model = self.model
        if model.day >= self.active_from:
            self.visit_day()
        self.churn_draw()

    def visit_day(self) -> None:
        model, p, rnd, g = self.model, self.model.p, self.model.random.random, self.segment
        x = p.visit_base[g] + self.activity + p.w_engagement * self.engagement + p.w_appeal * p.appeal
        x -= p.w_fatigue * self.fatigue
        if rnd() >= logistic(x):
            self.engagement *= p.keep_engagement
            self.fatigue = min(max(self.fatigue * p.keep_fatigue, 0.0), 1.0)
            return
        model.today["dau"] += 1
        self.engagement += p.learning_rate * (p.stimulus - self.engagement)
        self.fatigue = min(max(self.fatigue * p.keep_fatigue + p.feed_fatigue, 0.0), 1.0)
        s = self.satisfaction + p.content_rate * (p.trust_target - self.satisfaction)
        self.satisfaction = min(max(s, 0.0), 1.0)
        self.last_visit = model.day
        self.purchase_draw()
        self.referral_draw()

    def purchase_draw(self) -> None:
        model, p, rnd, g = self.model, self.model.p, self.model.random.random, self.segment
        need = 1.0 if self.last_purchase < 0 else 1.0 - math.exp(-(model.day - self.last_purchase) / p.cycle[g])
        x = p.buy_base[g] + p.w_need * (need - 1.0) + p.w_buy_sat * (self.satisfaction - 0.5)
        if rnd() >= logistic(x):
            return
        sigma = p.basket_sigma[g]
        basket = p.basket_mean[g] * math.exp(sigma * model.random.gauss(0.0, 1.0) - 0.5 * sigma * sigma)
        experienced = min(max(p.quality + p.quality_spread * (2.0 * rnd() - 1.0), 0.0), 1.0)
        s = self.satisfaction + p.product_rate * (experienced - self.satisfaction)
        self.satisfaction = min(max(s, 0.0), 1.0)
        self.last_purchase = model.day
        self.purchases += 1
        model.today["purchases"] += 1
        model.today["gmv"] += basket

    def referral_draw(self) -> None:
        model, p, rnd = self.model, self.model.p, self.model.random.random
        if rnd() >= logistic(p.invite_base + p.w_invite_sat * (self.satisfaction - 0.5)) or not self.contacts:
            return
        target = self.contacts[int(rnd() * len(self.contacts))]
        if target.status != PROSPECT:
            return
        model.today["invitations"] += 1
        if rnd() < p.acceptance:
            target.join(model.day, referred=True)
            model.today["referrals_accepted"] += 1

    def churn_draw(self) -> None:
        model, p = self.model, self.model.p
        share = self.churned_contacts / len(self.contacts) if self.contacts else 0.0
        x = (
            p.churn_base
            + p.w_churn_sat * (0.5 - self.satisfaction)
            + min(p.w_idle * (model.day - self.last_visit) * self.habit / 30.0, p.max_idle)
            + p.w_churn_fatigue * self.fatigue
            + p.w_social * share
        )
        if model.random.random() < logistic(x):
            self.status = CHURNED
            model.members -= 1
            model.today["churned"] += 1
            for c in self.contacts:
                c.churned_contacts += 1


class Params:
    """The scenario's parameters of the core rules as plain floats (and per-segment lists)."""

    def __init__(self, s: Scenario) -> None:
        segs = s.market.segments
        e, pu, r, c = s.engagement, s.purchase, s.referral, s.churn
        self.visit_base = [logit(e.base_visit_prob) + math.log(g.activity) for g in segs]
        self.w_engagement, self.w_appeal, self.w_fatigue = e.engagement_weight, e.appeal_weight, e.fatigue_weight
        self.appeal = 0.0  # no feed: the appeal of the day is a constant
        self.stimulus = 0.2  # 0.2 + the feed's engagement effect (none) + interaction value (no interactions)
        self.feed_fatigue = 0.0
        self.trust_target = 0.3  # 0.3 + 0.5 x feed quality (no feed) + trust effect (none)
        self.learning_rate = e.learning_rate
        self.keep_engagement, self.keep_fatigue = 1.0 - e.inactive_decay, 1.0 - e.fatigue_recovery
        self.initial_engagement = e.initial_engagement
        self.initial_satisfaction = s.satisfaction.initial
        self.content_rate, self.product_rate = s.satisfaction.content_rate, s.satisfaction.product_rate
        self.buy_base = [logit(pu.base_prob) + pu.discount_weight * pu.discount * g.price_sensitivity for g in segs]
        self.w_need, self.w_buy_sat = pu.need_weight, pu.satisfaction_weight
        self.cycle = [g.purchase_cycle_days for g in segs]
        self.basket_mean = [g.basket_mean for g in segs]
        self.basket_sigma = [g.basket_sigma for g in segs]
        self.quality, self.quality_spread = pu.product_quality, pu.quality_noise * math.sqrt(3.0)
        self.invite_base, self.w_invite_sat = logit(r.base_invite_prob), r.satisfaction_weight
        self.acceptance = r.base_acceptance
        self.referred_bonus = r.referred_satisfaction_bonus
        self.churn_base, self.w_churn_sat = logit(c.base_hazard), c.dissatisfaction_weight
        self.w_idle, self.w_churn_fatigue, self.w_social = c.inactivity_weight, c.fatigue_weight, c.social_weight
        self.max_idle = c.max_inactivity_log_odds
        self.sigma = e.activity_sigma


class RefModel(mesa.Model):
    """The plain-Mesa community: ``step()`` is one day, one ``RefMember.step()`` per person."""

    def __init__(self, scenario: Scenario, *, seed: int | None = None) -> None:
        check_core_rules(scenario)
        seed = scenario.seed if seed is None else int(seed)
        super().__init__(rng=seed)
        self.p = Params(scenario)
        self.day = 0
        self.members = 0
        self.today = dict.fromkeys(KPIS, 0)
        n = scenario.market.size
        # the engine's network for this seed, node for node
        net = build_network(scenario.market.network, n, Streams(seed)["network"])
        shares = np.array([g.share for g in scenario.market.segments])
        segment = self.rng.choice(len(shares), size=n, p=shares / shares.sum()).tolist()
        traits = self.rng.random((n, 2)).tolist()
        sigma = self.p.sigma
        activity = (sigma * self.rng.standard_normal(n) - sigma * sigma / 2).tolist()
        people = [RefMember(self, segment[i], *traits[i], activity[i]) for i in range(n)]
        indptr, indices = net.indptr.tolist(), net.indices.tolist()
        for i, person in enumerate(people):
            person.contacts = [people[j] for j in indices[indptr[i] : indptr[i + 1]]]
        for i in self.rng.choice(n, size=scenario.acquisition.initial_members, replace=False).tolist():
            people[i].join(0, referred=False)
        self.datacollector = mesa.DataCollector(model_reporters={k: (lambda m, k=k: m.today[k]) for k in KPIS})

    def step(self) -> None:
        self.day = self.steps - 1
        self.today = dict.fromkeys(KPIS, 0)
        self.agents.shuffle_do("step")
        self.today["members"] = self.members
        self.datacollector.collect(self)

    def run(self, days: int) -> None:
        for _ in range(days):
            self.step()

    def timeseries(self):
        df = self.datacollector.get_model_vars_dataframe()
        df.index.name = "day"
        return df
