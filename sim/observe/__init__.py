"""What the model reports each day: KPIs, health alerts, and the adaptive rules that act on them."""
