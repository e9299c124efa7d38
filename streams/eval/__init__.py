"""Vigie eval package."""
