"""The event contract: the social-event model, record decoding, validation."""
