"""The ``community-sim`` command line: ``main`` (the commands), ``errors`` (how a command ends),
``output`` (what it writes besides its results), and one module for ``run``; the other commands'
work lives beside what they drive (``sim.experiment.cli``, ``sim.compare.cli``, ...)."""

from sim.cli.main import app, entry, main

__all__ = ["app", "entry", "main"]
