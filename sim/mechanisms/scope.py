"""What a phase sees of the model: ``Scope``, the part its mechanism declared.

A mechanism's spec lists in ``uses`` the model state and services its phases
touch, by name or by group (``GROUPS``). Each phase is called with a ``Scope``
instead of the model: reading or writing anything else raises
``UndeclaredState`` naming the mechanism and the attribute. So a phase's inputs
are written down in one place, checked on every run, and a unit test can call the
phase on a hand-built namespace holding just those names.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Names that stand for several attributes of the model.
GROUPS: dict[str, tuple[str, ...]] = {
    # the engine's rows: members' indices, the two-core split, member-only writes (sim.engine.rows)
    "rows": (
        "member_index",
        "member_rows",
        "split_rows",
        "split_people",
        "members_where",
        "members_in",
        "write_members",
        "row_segments",
        "member_segments",
        "positions_in",
        "count_members",
    ),
    # what joining and leaving change (sim.core.membership)
    "membership": (
        "pop",
        "day",
        "scenario",
        "network",
        "ledger",
        "events",
        "join_codes",
        "invalidate_members",
        "n_members",
        "n_churned",
    ),
}


def expand(uses: Iterable[str]) -> frozenset[str]:
    """The attribute names that ``uses`` stands for."""
    return frozenset(name for use in uses for name in GROUPS.get(use, (use,)))


class UndeclaredState(AttributeError):
    """A phase touched model state its mechanism's spec does not declare."""


#: What work split over two cores (``split_rows``, ``split_people``) must not touch: the split is a
#: speed choice only, so a half may not draw numbers, book money, log events, mark the day or split again.
NOT_IN_SPLIT_WORK = ("streams", "ledger", "events", "log_marker", "split_rows", "split_people")


class Scope:
    """A view of the model that holds only the names in ``allowed``.

    Built for each call of a phase: the declared attributes are read once, at the
    start (direct attribute reads afterwards, no lookup through the model), and a
    write goes to the model and to the view. Every write a phase makes goes through
    its own view, so the view stays in step with the model for the whole call.
    While work is split over two cores, the view withholds ``NOT_IN_SPLIT_WORK``,
    so that part of the split contract (``sim.engine.rows``) holds by construction.
    """

    def __init__(self, model, allowed: frozenset[str], owner: str) -> None:
        own = self.__dict__
        own["_model"], own["_allowed"], own["_owner"] = model, allowed, owner
        for name in allowed:
            own[name] = getattr(model, name)
        for name in ("split_rows", "split_people"):
            if name in own:
                own[name] = self._guarded(own[name])

    def _guarded(self, split):
        """``split`` with ``NOT_IN_SPLIT_WORK`` out of this view while the halves run."""

        def run(fn, rows):
            own = self.__dict__
            held = {name: own.pop(name) for name in NOT_IN_SPLIT_WORK if name in own}
            try:
                return split(fn, rows)
            finally:
                own.update(held)

        return run

    def __getattr__(self, name: str):  # only for names the view does not hold
        if name in self._allowed:
            raise UndeclaredState(
                f"mechanism {self._owner!r} uses model.{name} inside work split over two cores; "
                "split work may not draw numbers, book money, log events or split again"
            )
        raise UndeclaredState(f"mechanism {self._owner!r} reads model.{name} without declaring it in its SPEC uses")

    def __setattr__(self, name: str, value) -> None:
        if name not in self._allowed:
            raise UndeclaredState(
                f"mechanism {self._owner!r} writes model.{name} without declaring it in its SPEC uses"
            )
        setattr(self._model, name, value)
        self.__dict__[name] = value
