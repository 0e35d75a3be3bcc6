"""Shared test configuration: Hypothesis profiles and the location of the read-only ``shared/`` directory.

Profiles (select with ``HYPOTHESIS_PROFILE=<name>``; when unset, ``ci`` if the ``CI`` environment variable is set,
else ``dev``):

* ``dev`` — default for local runs: 30 examples, no deadline (crypto and scapy timings vary too much for one).
* ``ci`` — 50 examples, no deadline, randomised, and ``print_blob`` so a CI failure can be replayed locally with
  ``@reproduce_failure``.
* ``thorough`` — 1000 examples for long local or nightly campaigns.

``shared/`` (spec, design, vectors) lives beside the clone (``../shared``) in CI and on the development machine;
``IPSECOV2_SHARED`` overrides the location. Tests that need it skip with a visible reason when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

REPO_ROOT = Path(__file__).resolve().parent.parent


def in_ci() -> bool:
    """Whether we run under CI (``CI`` set to anything but an empty/false value, as CI services do)."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile("ci", derandomize=False, deadline=None, max_examples=50, print_blob=True)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if in_ci() else "dev"))


def find_shared_dir() -> Path | None:
    """``$IPSECOV2_SHARED`` if set, else ``shared/`` beside the repository root; ``None`` when neither exists."""
    env = os.environ.get("IPSECOV2_SHARED")
    candidates = [Path(env)] if env else []
    candidates.append(REPO_ROOT.parent / "shared")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    return None


@pytest.fixture(scope="session")
def shared_dir() -> Path | None:
    """The read-only ``shared/`` directory (spec, design, vectors), or ``None`` when it is not beside the clone."""
    return find_shared_dir()


@pytest.fixture(scope="session")
def running_in_ci() -> bool:
    """Whether the run is a CI run: tests that skip locally for a missing tool must fail there instead."""
    return in_ci()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (the directory holding ``pyproject.toml``)."""
    return REPO_ROOT
