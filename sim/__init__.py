"""community-sim: an agent-based simulator of brand and live-commerce user communities."""

__version__ = "0.1.0"
