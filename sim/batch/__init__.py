"""Running many simulations: executors (serial, local processes, Dask) and replication seeds."""
