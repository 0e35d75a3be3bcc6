"""The vector files in ``tests/vectors/`` stay byte-identical to their originals in ``shared/vectors/``.

The copies make the suite self-contained (a clone without ``shared/`` still runs the vector tests); this test makes
sure a copy never drifts from its source when ``shared/`` sits beside the clone, as it does in CI.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _vectors import ESP_GCM_FILE, VECTORS_DIR

COPIED = sorted(p.name for p in VECTORS_DIR.glob("*.json"))


def test_vector_copies_include_esp_gcm() -> None:
    assert ESP_GCM_FILE in COPIED


@pytest.mark.parametrize("name", COPIED)
def test_vector_copy_equals_shared_original(name: str, shared_dir: Path | None) -> None:
    if shared_dir is None:
        pytest.skip("shared/ is not beside the clone (set IPSECOV2_SHARED to check the copies)")
    original = shared_dir / "vectors" / name
    assert original.is_file(), f"{name} has no original in {shared_dir / 'vectors'}"
    assert (VECTORS_DIR / name).read_bytes() == original.read_bytes()
