"""The model's state and the services phases use: population, day state, network, ledger, events, policy, streams."""
