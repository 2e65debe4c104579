"""``community-sim discover``: scenario discovery on a finished sweep (which factor ranges make runs bad)."""
