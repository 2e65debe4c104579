"""Interactive dashboard for small communities, on Mesa's SolaraViz.

``controls`` turns the dashboard's control values into a validated ``Scenario``;
``model`` wraps ``CommunityModel`` so SolaraViz can rebuild it on Reset and moved
controls act on it live (``live`` swaps its scenario between days); ``compat`` holds what
Mesa versions' SolaraViz need;
``figures`` and ``network_view`` draw; ``views`` holds the Solara components;
``export`` writes a scenario file; ``server`` starts the app (``sim/dashboard/app.py``).
Only ``views``, ``server`` and ``sim.dashboard.app`` need the optional ``dashboard`` extra.
"""
