"""Background jobs: the shared model, their lifecycle on the worker side, dispatch, and the sweeper."""
