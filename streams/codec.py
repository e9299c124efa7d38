"""Dataclasses to JSON-compatible values and back: one codec per class, generated once.

Every state and message class (bucket aggregates, watch states, detector states) is a frozen
dataclass; its type hints say how to write it. ``encode`` and ``decode`` build, on the first
use of a class, a plain Python function specialised to its fields (no reflection per call), so
the hot path costs what hand-written ``to_dict``/``from_dict`` pairs cost.

Format: a dataclass is a JSON object keyed by field name, or by the short keys of its
``CODEC_KEYS`` class attribute (the compact wire classes), or an array of its fields in
order when its ``CODEC_ARRAY`` is true (small records: fields are only ever appended);
tuples are arrays; a mapping with
``str`` keys is an object, any other mapping a list of ``[key, value]`` pairs. What is JSON
already is passed through as it is (orjson writes tuples as arrays), so a tuple of floats
costs nothing to encode. On decoding, a missing field takes its default and an unknown key
is ignored, so a field added later reads old data. Fields with ``init=False`` and those
marked ``TRANSIENT`` (caches of what the state implies) are not written.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, TypeVar

import orjson

T = TypeVar("T")
TRANSIENT: Mapping[str, bool] = types.MappingProxyType({"transient": True})
_NATIVE = (int, float, str, bool, type(None))
_MISSING = object()


def encode(obj: Any) -> Any:
    """The JSON-compatible form of a dataclass instance (for orjson)."""
    return encoder(type(obj))(obj)


def decode(cls: type[T], data: Any) -> T:
    """The instance of cls that ``encode`` wrote as data."""
    return decoder(cls)(data)


def dumps(obj: Any) -> bytes:
    """JSON bytes of a dataclass instance."""
    return orjson.dumps(encoder(type(obj))(obj))


def loads(cls: type[T], raw: bytes | bytearray | memoryview | str) -> T:
    """The instance of cls from JSON bytes written by ``dumps``."""
    return decoder(cls)(orjson.loads(raw))


def _fields(cls: type) -> list[tuple[dataclasses.Field[Any], str, Any]]:
    """(field, JSON key, type) of every field written."""
    hints = typing.get_type_hints(cls)
    keys: Mapping[str, str] = getattr(cls, "CODEC_KEYS", {})
    return [(f, keys.get(f.name, f.name), hints[f.name]) for f in dataclasses.fields(cls)
            if f.init and not f.metadata.get("transient")]


def _native(tp: Any) -> bool:
    """Whether values of tp are JSON for orjson as they are (no conversion either way)."""
    if tp is Any or tp in _NATIVE:
        return True
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return all(_native(a) for a in args)
    return False


def _optional(tp: Any) -> Any | None:
    """X for X | None, else None."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0]
    return None


class _Gen:
    """Source of one class's encode or decode function, with the helpers it calls."""

    def __init__(self, decoding: bool) -> None:
        self.decoding = decoding
        self.env: dict[str, Any] = {}

    def ref(self, obj: Any) -> str:
        name = f"_r{len(self.env)}"
        self.env[name] = obj
        return name

    def expr(self, tp: Any, v: str, depth: int = 0) -> str:
        """Python expression converting the value v of type tp."""
        if self.decoding and tp is float:
            return v  # an int where a float is due (e.g. 0) is a float to every reader
        if _native(tp):
            return v
        inner = _optional(tp)
        if inner is not None:
            return f"(None if {v} is None else {self.expr(inner, v, depth)})"
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            fn = decoder(tp) if self.decoding else encoder(tp)
            return f"{self.ref(fn)}({v})"
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        x = f"_x{depth}"
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                item = args[0]
                if _native(item):
                    return f"tuple({v})" if self.decoding else v
                return f"tuple([{self.expr(item, x, depth + 1)} for {x} in {v}])" \
                    if self.decoding else f"[{self.expr(item, x, depth + 1)} for {x} in {v}]"
            if all(_native(a) for a in args):
                return f"tuple({v})" if self.decoding else v
            parts = ", ".join(self.expr(a, f"{v}[{i}]", depth + 1) for i, a in enumerate(args))
            return f"({parts},)" if self.decoding else f"[{parts}]"
        if origin in (dict, Mapping):
            k_tp, v_tp = args
            k, val = f"_k{depth}", f"_v{depth}"
            if k_tp is str:
                if _native(v_tp):
                    return f"dict({v})" if self.decoding else v
                return f"{{{k}: {self.expr(v_tp, val, depth + 1)} for {k}, {val} in {v}.items()}}"
            ke, ve = self.expr(k_tp, k, depth + 1), self.expr(v_tp, val, depth + 1)
            if self.decoding:
                return f"{{{ke}: {ve} for {k}, {val} in {v}}}"
            return f"[[{ke}, {ve}] for {k}, {val} in {v}.items()]"
        raise TypeError(f"codec: unsupported type {tp!r}")


def encoder(cls: type[T]) -> Callable[[T], Any]:
    """The generated encode function of a dataclass (built on its first use)."""
    c: Any = cls
    return _encoder(c)


def decoder(cls: type[T]) -> Callable[[Any], T]:
    """The generated decode function of a dataclass (built on its first use)."""
    c: Any = cls
    return _decoder(c)


@cache
def _encoder(cls: Any) -> Callable[[Any], Any]:
    gen = _Gen(decoding=False)
    if getattr(cls, "CODEC_ARRAY", False):
        body = "[" + ", ".join(gen.expr(tp, "o." + f.name) for f, _, tp in _fields(cls)) + "]"
    else:
        body = "{" + ", ".join(f"{k!r}: {gen.expr(tp, 'o.' + f.name)}"
                               for f, k, tp in _fields(cls)) + "}"
    exec(compile(f"def encode(o):\n    return {body}\n", f"<codec encode {cls.__qualname__}>",
                 "exec"), gen.env)
    fn: Callable[[Any], Any] = gen.env["encode"]
    fn.__doc__ = f"{cls.__qualname__} -> JSON-compatible value (generated)."
    return fn


def _direct(cls: type) -> list[tuple[str, str]] | None:
    """(field, default expression source key) of the fields a decoder sets itself when it may
    skip __init__ (a frozen __init__ sets each field through object.__setattr__: slow), or
    None when __init__ must run (__post_init__, slots, a field without a default it skips)."""
    if hasattr(cls, "__post_init__") or "__slots__" in cls.__dict__:
        return None
    out = []
    for f in dataclasses.fields(cls):
        if f.init and not f.metadata.get("transient"):
            continue
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            return None
        out.append((f.name, "default" if f.default is not dataclasses.MISSING else "factory"))
    return out


@cache
def _decoder(cls: Any) -> Callable[[Any], Any]:
    """Complete data (the usual case) is read key by key; a missing key (data written before
    a field was added) falls back to reading each field with its default."""
    gen = _Gen(decoding=True)
    fields = _fields(cls)
    by_name = {f.name: f for f in dataclasses.fields(cls)}
    direct = _direct(cls)
    array = getattr(cls, "CODEC_ARRAY", False)
    ctor = gen.ref(cls)
    gen.env.update(_new=object.__new__, _set=object.__setattr__, _MISSING=_MISSING)

    def build(values: list[str]) -> list[str]:
        if direct is None:  # positional: the fields written are the __init__ fields, in order
            return [f"    return {ctor}({', '.join(values)})"]
        items = [f"{f.name!r}: {v}" for (f, _, _), v in zip(fields, values, strict=True)]
        for name, kind in direct:  # caches and derived fields start at their defaults
            f = by_name[name]
            items.append(f"{name!r}: {gen.ref(f.default)}" if kind == "default"
                         else f"{name!r}: {gen.ref(f.default_factory)}()")
        return [f"    o = _new({ctor})", f"    _set(o, '__dict__', {{{', '.join(items)}}})",
                "    return o"]

    def at(i: int, k: str) -> str:
        return f"d[{i}]" if array else f"d[{k!r}]"

    fast = build([gen.expr(tp, at(i, k)) for i, (_, k, tp) in enumerate(fields)])
    lines = ["def decode(d):", "    try:", *("    " + x for x in fast),
             f"    except {'IndexError' if array else 'KeyError'}:", "        pass",
             "    g = (lambda k, m: d[k] if k < len(d) else m)" if array else "    g = d.get"]
    values = []
    for i, (f, k, tp) in enumerate(fields):
        var = f"a{i}"
        values.append(var)
        if f.default is not dataclasses.MISSING:
            default = gen.ref(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = f"{gen.ref(f.default_factory)}()"
        else:
            lines.append(f"    {var} = {gen.expr(tp, at(i, k))}")
            continue
        lines.append(f"    {var} = g({i if array else repr(k)}, _MISSING)")
        lines.append(f"    {var} = {default} if {var} is _MISSING else {gen.expr(tp, var)}")
    lines += build(values)
    src = "\n".join(lines) + "\n"
    exec(compile(src, f"<codec decode {cls.__qualname__}>", "exec"), gen.env)
    fn: Callable[[Any], Any] = gen.env["decode"]
    fn.__doc__ = f"JSON-compatible value -> {cls.__qualname__} (generated)."
    return fn
