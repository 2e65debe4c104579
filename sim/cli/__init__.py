"""The ``community-sim`` command line: ``commands`` (the commands and their options), ``main`` (the
entry point and exit codes), ``errors`` (how a command ends),
``output`` (what it writes besides its results), and one module for ``run``; the other commands'
work lives beside what they drive (``sim.experiment.cli``, ``sim.compare.cli``, ...)."""

from sim.cli.main import app, entry, main

__all__ = ["app", "entry", "main"]
