"""Vigie detectors package."""
