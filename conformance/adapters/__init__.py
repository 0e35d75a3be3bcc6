"""Adapters: how the suite talks to an implementation under test (``shared/design/adapter-protocol.md``).

``base`` holds the contract, ``errors`` the harness faults (verdict ERROR), ``wire`` the JSON-lines codec, ``loading``
the entry-point registry, and one module per built-in adapter.
"""

from conformance.adapters.base import Adapter, AdapterFactory, Restartable
from conformance.adapters.errors import (
    AdapterCrashed,
    AdapterError,
    AdapterLoadError,
    AdapterProtocolError,
    AdapterRefused,
    AdapterTimeout,
)

__all__ = [
    "Adapter",
    "AdapterCrashed",
    "AdapterError",
    "AdapterFactory",
    "AdapterLoadError",
    "AdapterProtocolError",
    "AdapterRefused",
    "AdapterTimeout",
    "Restartable",
]
