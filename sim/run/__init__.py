"""One run of a scenario: the runner, end-of-run summaries, the incentive counterfactual, run directories."""
