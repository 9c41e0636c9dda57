"""Pools of identity strings filled by Faker once, then sampled by NumPy.

Faker is slow per call (tens of microseconds); the world needs millions of values. So Faker only fills small
pools of first names, last names, streets, cities and companies, and NumPy indexes into them. Names are drawn
straight from Faker's en_US name tables by their frequency weights: asking ``first_name()`` until 600 distinct
names came up took thousands of calls, as the common names repeat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from faker import Faker
from faker.providers.person.en_US import Provider as PersonProvider

from ingestion.world.random import rng_for


@dataclass(frozen=True)
class Pools:
    first_names: np.ndarray
    last_names: np.ndarray
    streets: np.ndarray
    cities: np.ndarray
    companies: np.ndarray
    email_domains: np.ndarray


def build_pools(seed: int, n_names: int = 600, n_streets: int = 3000, n_cities: int = 240) -> Pools:
    """Fill the pools from a Faker instance seeded with ``seed`` (deterministic for a pinned Faker)."""
    fake = Faker("en_US")
    fake.seed_instance(seed)

    def unique(fn, n: int) -> np.ndarray:
        seen: dict[str, None] = {}
        attempts = 0
        while len(seen) < n and attempts < n * 20:
            seen.setdefault(fn(), None)
            attempts += 1
        return np.array(list(seen), dtype=object)

    rng = rng_for(seed, "identity-pools")

    def weighted(table: dict[str, float], n: int) -> np.ndarray:
        names = np.array(list(table), dtype=object)
        weights = np.array(list(table.values()), dtype=float)
        return names[rng.choice(len(names), min(n, len(names)), replace=False, p=weights / weights.sum())]

    return Pools(
        first_names=weighted(PersonProvider.first_names, n_names),
        last_names=weighted(PersonProvider.last_names, n_names),
        streets=unique(fake.street_address, n_streets),
        cities=unique(fake.city, n_cities),
        companies=unique(lambda: fake.company().split(",")[0].split(" ")[0], 150),
        email_domains=np.array(
            ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me", "aol.com", "hotmail.com"],
            dtype=object,
        ),
    )
