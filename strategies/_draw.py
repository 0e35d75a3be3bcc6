"""Cheap draws inside composite strategies.

Building a strategy object costs far more than drawing from it (Hypothesis computes emptiness and validates each new
one), and the architecture's time budget is tight. So the helpers here reuse cached strategies: ``pick`` draws an index
into a sequence (the first element is the shrink target, like ``sampled_from``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TypeVar

from hypothesis import strategies as st

T = TypeVar("T")

BOOLEANS = st.booleans()
U32 = st.integers(0, 2**32 - 1)


@functools.cache
def integers(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(lo, hi)


def pick(draw: st.DrawFn, options: Sequence[T]) -> T:
    """One of ``options`` (non-empty), shrinking toward the first."""
    if len(options) == 1:
        return options[0]
    return options[draw(integers(0, len(options) - 1))]


def boolean(draw: st.DrawFn) -> bool:
    return draw(BOOLEANS)
