"""Vectorized phases of a simulated day, one module per mechanism."""
