"""Compare strategies: paired replications, statistics, plots and a shareable report."""
