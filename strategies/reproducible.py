"""Draws that depend on the seed alone, not on which modules happen to be loaded.

Hypothesis (6.13x and later) biases a few draws toward constants it finds in the *local* modules present in
``sys.modules`` at the time, and the pool grows as modules are imported. A derandomized or seeded run therefore draws
differently depending on what the process imported before (earlier tests, an editable versus a regular install),
which broke two promises of this project: "the same seed writes the same pack" (``ipsecov2-conformance export``) and
"the coverage self-test's counts are a property of the strategies". ``reproducible()`` pins the pool to empty for the
draws made inside it. The switch is Hypothesis-internal; if it moves, the context manager degrades to a no-op (draws
are then as reproducible as Hypothesis makes them) rather than failing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def reproducible() -> Iterator[None]:
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:  # pragma: no cover - a Hypothesis without the constants pool needs nothing pinned
        yield
        return
    original: Any = getattr(providers, "_get_local_constants", None)
    if original is None:  # pragma: no cover - see the module docstring
        yield
        return
    empty = Constants()
    providers._get_local_constants = lambda: empty
    try:
        yield
    finally:
        providers._get_local_constants = original
