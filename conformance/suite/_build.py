"""What every suite test does first: make sure the IUT can hold an SA, or record the clauses UNSUPPORTED."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from conformance.families import FAMILIES, feasible
from conformance.session import IutSession
from reference_model.ndis import Capabilities


def require_sa_support(session: IutSession, test_id: str, clauses: Sequence[str], family: str = "") -> Capabilities:
    """The IUT's capabilities, or UNSUPPORTED + skip when it cannot hold an SA this family needs."""
    caps = session.hello.capabilities
    if not feasible(caps):
        session.unsupported(clauses, test_id, "the IUT reports no usable AH or ESP offload")
        pytest.skip("the IUT reports no usable AH/ESP offload: clauses UNSUPPORTED")
    if family and not FAMILIES[family].needs(caps):
        session.unsupported(clauses, test_id, f"the IUT does not claim what the {family} family needs")
        pytest.skip(f"the IUT does not claim what the {family} family needs: clauses UNSUPPORTED")
    return caps
