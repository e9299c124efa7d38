"""Where alerts and views go: Redis, delivery sinks, views and the live page."""
