"""The JSON Schemas of the contracts (schemas/), compiled once, for checks at both edges."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_DIRS = (Path(__file__).resolve().parents[2] / "schemas",)


@cache
def schema(name: str) -> dict[str, Any]:
    """Load a JSON Schema by name (e.g. 'alert.v1') from schemas/ or the installed package."""
    for d in SCHEMA_DIRS:
        p = d / f"{name}.schema.json"
        if p.exists():
            return dict(json.loads(p.read_text()))
    pkg = resources.files("streams") / "schemas" / f"{name}.schema.json"
    return dict(json.loads(pkg.read_text()))


@cache
def validator(name: str) -> jsonschema.protocols.Validator:
    """A compiled draft 2020-12 validator with format checking."""
    cls = jsonschema.Draft202012Validator
    return cls(schema(name), format_checker=cls.FORMAT_CHECKER)
