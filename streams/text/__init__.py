"""Vigie text package."""
