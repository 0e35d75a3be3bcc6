"""The reference NIC behind the wire protocol: ``exec`` driving this must equal the ``reference`` adapter in process.

Usage: ``python reference_nic.py [CAPS.json]`` (the argument of ``--iut reference:CAPS.json``).
"""

from __future__ import annotations

import sys

from conformance.adapters.reference import create
from conformance.adapters.serve import serve

if __name__ == "__main__":
    sys.exit(serve(create(sys.argv[1] if len(sys.argv) > 1 else None)))
