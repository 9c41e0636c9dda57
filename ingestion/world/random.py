"""Deterministic random streams: one independent NumPy generator per component of the world.

Each component draws from its own stream derived from (seed, component name), so adding draws to one
component never shifts the numbers another component sees.
"""

from __future__ import annotations

import hashlib

import numpy as np


def rng_for(seed: int, component: str) -> np.random.Generator:
    """A PCG64 generator for ``component`` of the world generated with ``seed``."""
    salt = int.from_bytes(hashlib.sha256(component.encode()).digest()[:8], "little")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, salt])))
