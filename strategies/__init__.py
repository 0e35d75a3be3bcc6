"""Hypothesis strategies for IPsecOV2 receive-path conformance: capabilities, SAs, frames, corruptions, scenarios.

Everything is valid by construction and built on ``reference_model`` (its types and codecs); see ``labels`` for the
shape and corruption vocabulary and ``values`` for what the strategies yield.
"""

from strategies.capabilities import EVERYTHING, MINIMAL, capabilities
from strategies.corruptions import corruption_options, corruptions
from strategies.frames import bursts, frames
from strategies.labels import CorruptionKind, CorruptionLabel, OutcomeClass, Shape
from strategies.scenarios import frames_of, scenarios
from strategies.security_associations import SaTable, sa_tables, security_associations
from strategies.values import Burst, CorruptedFrame, GeneratedFrame, Scenario

__all__ = [
    "EVERYTHING",
    "MINIMAL",
    "Burst",
    "CorruptedFrame",
    "CorruptionKind",
    "CorruptionLabel",
    "GeneratedFrame",
    "OutcomeClass",
    "SaTable",
    "Scenario",
    "Shape",
    "bursts",
    "capabilities",
    "corruption_options",
    "corruptions",
    "frames",
    "frames_of",
    "sa_tables",
    "scenarios",
    "security_associations",
]
