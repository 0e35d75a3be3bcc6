"""Finding adapters: the entry-point group ``ipsecov2_conformance.adapters`` and ``--iut NAME[:ARGUMENT]``.

Third parties register an adapter the way pytest plug-ins register: an entry point whose object is an
``AdapterFactory`` (``Callable[[str | None], Adapter]``). Loading errors are configuration errors of the person running
the suite, so they say what to change: an unknown name lists the installed ones, an entry point that fails to import
names the entry point (``name = module:attr`` and its distribution) and the exception.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import metadata
from typing import Final, cast

from conformance.adapters.base import Adapter, AdapterFactory
from conformance.adapters.errors import AdapterError, AdapterLoadError

GROUP: Final = "ipsecov2_conformance.adapters"


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"NAME[:ARGUMENT]"`` → ``(NAME, ARGUMENT or None)``; only the first colon splits (arguments may hold colons)."""
    name, sep, argument = spec.partition(":")
    name = name.strip()
    if not name:
        raise AdapterLoadError(f"--iut {spec!r}: expected NAME[:ARGUMENT], e.g. reference or exec:'./my-nic --flag'")
    return name, (argument if sep else None)


def _entry_points(available: Iterable[metadata.EntryPoint] | None) -> list[metadata.EntryPoint]:
    if available is not None:
        return [ep for ep in available if ep.group == GROUP]
    return list(metadata.entry_points(group=GROUP))


def _version(ep: metadata.EntryPoint) -> str:
    dist = ep.dist
    return dist.version if dist is not None else "unknown"


def _describe(ep: metadata.EntryPoint) -> str:
    dist = ep.dist
    origin = f" (from {dist.name} {dist.version})" if dist is not None else ""
    return f"entry point {ep.name!r} = {ep.value}{origin}"


def installed_adapters(*, available: Iterable[metadata.EntryPoint] | None = None) -> list[tuple[str, str]]:
    """``(name, version of the distribution that registers it)`` for every adapter, sorted by name.

    ``available`` replaces the installed entry points (for tests and for tools that build their own registry).
    """
    return sorted({(ep.name, _version(ep)) for ep in _entry_points(available)})


def load_factory(name: str, *, available: Iterable[metadata.EntryPoint] | None = None) -> AdapterFactory:
    """The factory registered under ``name``; ``AdapterLoadError`` if there is none or it cannot be imported."""
    eps = _entry_points(available)
    matches = [ep for ep in eps if ep.name == name]
    if not matches:
        names = ", ".join(sorted({ep.name for ep in eps})) or "none (is ipsecov2-conformance installed?)"
        raise AdapterLoadError(f"no adapter named {name!r}; installed adapters: {names}")
    if len({ep.value for ep in matches}) > 1:
        listing = "; ".join(_describe(ep) for ep in matches)
        raise AdapterLoadError(f"adapter name {name!r} is registered more than once: {listing}")
    ep = matches[0]
    try:
        factory = ep.load()
    except Exception as exc:  # import errors of third-party code come in every shape
        raise AdapterLoadError(f"cannot load {_describe(ep)}: {type(exc).__name__}: {exc}") from exc
    if not callable(factory):
        raise AdapterLoadError(f"{_describe(ep)} is not callable (expected an AdapterFactory)")
    return cast(AdapterFactory, factory)


def load_adapter(spec: str, *, available: Iterable[metadata.EntryPoint] | None = None) -> Adapter:
    """Create the adapter ``--iut NAME[:ARGUMENT]`` names.

    ``AdapterLoadError`` when the name is unknown, the entry point fails to import, or its factory rejects the
    argument; an ``AdapterError`` raised while starting the IUT (a program that exits at once) passes through.
    """
    name, argument = parse_spec(spec)
    factory = load_factory(name, available=available)
    try:
        return factory(argument)
    except (AdapterError, AdapterLoadError):
        raise
    except Exception as exc:
        raise AdapterLoadError(
            f"adapter {name!r} rejected the argument {argument!r}: {type(exc).__name__}: {exc}"
        ) from exc
