"""The pure pipeline: the ingest step, the per-watch loop, the clock, the messages."""
