"""Calibration of scenario parameters against observed KPI series, and export for CLV libraries.

``observed`` reads and aggregates the observed CSV, ``params`` parses ``--fit`` and
``--target``, ``distance`` scores a fit, ``search`` runs the optuna study, ``report``
writes the calibration directory, ``export`` turns a run's event log into
transactions and an RFM summary, ``baseline`` fits BG/NBD or BG/BB beside a fit, and
``cells`` turns published discrete-period cells into a per-person panel and a log.
See docs/calibration.md.
"""


class CalibrationError(ValueError):
    """Bad calibration or export input; the CLI reports it without a traceback (exit code 2)."""
