"""How the engine runs a model: speed and memory settings that change no number.

A model takes its options when it is built (``CommunityModel(scenario, engine=...)``);
without, it takes this process's default. Only entry points change the default
(``set_default``): a sweep's worker runs every model on one core, because the
workers already fill the cores. Tests and notebooks pass options explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class EngineOptions:
    """Size thresholds of the engine's speed choices (see ``sim.engine.rows`` and ``sim.engine.drawahead``)."""

    #: Market size from which whole-column arithmetic is split in two halves computed on two cores.
    split_market: int = 200_000
    #: ... and from how many people per-person work on a list of them (today's visitors) is split.
    split_people: int = 100_000
    #: Market size from which each day's per-person draws are repeated for the next day on a second core.
    draw_ahead_market: int = 100_000
    #: Person agent views are created for markets up to this size (when the model is not told).
    agent_views_up_to: int = 100_000
    #: False: nothing is split over a second core and nothing is drawn ahead.
    second_core: bool = True
    #: Whole-column arithmetic runs over blocks of this many rows, so that a phase's temporaries stay
    #: in the processor's cache instead of streaming through memory once per operation (0: no blocks).
    block_rows: int = 131_072

    def blocks(self, market: int) -> list[slice]:
        """The row blocks whole-column arithmetic of a market this size runs over, in order."""
        b = self.block_rows
        if b <= 0 or market <= b:
            return [slice(None)]
        return [slice(start, min(start + b, market)) for start in range(0, market, b)]

    def splits(self, market: int) -> bool:
        """Whether whole-column arithmetic of a market this size is split over two cores."""
        return self.second_core and market >= self.split_market

    def splits_people(self, market: int, people: int) -> bool:
        """Whether per-person work on ``people`` people of a market this size is split over two cores."""
        return self.splits(market) and people >= self.split_people

    def draws_ahead(self, market: int) -> bool:
        """Whether tomorrow's draws are made on a second core for a market this size."""
        return self.second_core and market >= self.draw_ahead_market

    def on_one_core(self) -> EngineOptions:
        """These options with nothing on a second core."""
        return replace(self, second_core=False)


_default = EngineOptions()


def default() -> EngineOptions:
    """The options of models built without any (this process's default)."""
    return _default


def set_default(options: EngineOptions) -> None:
    """Change this process's default (entry points only: the command line, a sweep's worker)."""
    global _default
    _default = options
