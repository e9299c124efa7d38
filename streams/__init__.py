"""Vigie: real-time social-media monitoring stream processor."""

__version__ = "0.1.0"
