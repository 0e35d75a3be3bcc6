"""Shrinking: a failure on a rare shape shrinks to a small frame with an empty payload.

A deliberately failing property, "no frame is a tunnel-over-transport AH+ESP frame", is falsified with
``hypothesis.find`` on the NIC that claims everything. On Hypothesis 6.155 the shrunk example is 146 bytes: an IPv4
AH (HMAC-MD5, zero key, SPI 256, seq 1) tunnel around an IPv4 AH (HMAC-MD5) + ESP (AES-GCM-128, 16-byte ICV)
transport bundle carrying an 8-byte UDP header and no payload, i.e.

    Frame(Datagram(ip=Ipv4Header(198.51.100.1 -> 198.51.100.2), ah=AhLayer(spi=256, MD5),
          payload=Datagram(ip=Ipv4Header(198.51.100.1 -> 198.51.100.2), ah=AhLayer(spi=259, MD5),
                           esp=EspLayer(spi=258, AES_GCM_128), payload=Upper(UDP, 8 bytes))))

The test prints the example it found (``pytest -s``) and asserts only on its size and payload, which is what makes a
counterexample readable.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, find, settings

from strategies import EVERYTHING, GeneratedFrame, Shape, frames, sa_tables


def test_nested_ah_esp_failure_shrinks_to_small_frame() -> None:
    strategy = sa_tables(caps=EVERYTHING, max_groups=2).flatmap(
        lambda table: frames(sa_table=table, caps=EVERYTHING, unmatched=False)
    )

    def fails(frame: GeneratedFrame) -> bool:
        return Shape.NESTED in frame.shape and Shape.AH_ESP in frame.shape

    shrunk = find(
        strategy,
        fails,
        settings=settings(
            max_examples=2000, database=None, derandomize=True, deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate, Phase.shrink],  # no explain phase: its tracing triples the time
        ),
    )
    print(f"\nshrunk to {shrunk.describe()}\n{shrunk.frame}\n{shrunk.data.hex()}")
    assert fails(shrunk)
    assert len(shrunk.data) <= 300, f"shrunk frame still {len(shrunk.data)} bytes: {shrunk.describe()}"
    assert Shape.EMPTY_PAYLOAD in shrunk.shape, f"payload not minimal: {shrunk.describe()}"
    assert Shape.LARGE_PAYLOAD not in shrunk.shape
