"""Sources: platform payloads mapped to social-event.v1 and produced by `vigie ingest`."""
