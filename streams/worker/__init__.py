"""The Faust worker: the only code that imports faust (agents, timers, tables, glue)."""
