"""Experiments: a design of scenario variants x replications, run on local processes or Dask.

``spec`` reads and checks the experiment file, ``resolve`` turns it into runs,
``sweep`` runs them into a resumable store, ``analysis`` reads the store back
(sensitivity indices, response curves, heatmaps, ensemble comparisons).
Heavy modules (SALib, Dask, matplotlib) are imported only where used.
"""
