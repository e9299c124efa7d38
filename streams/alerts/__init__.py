"""Vigie alerts package."""
