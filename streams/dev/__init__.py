"""Development tooling: benchmarks, simulator, scenarios, demo, replays, evaluations."""
