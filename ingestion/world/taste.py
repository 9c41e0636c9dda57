"""Per-customer taste beyond the persona: favourite brands and favourite everyday products.

A persona says which categories a customer leans to; two customers of one persona still differ. Each customer
draws a category preference from a Dirichlet around their persona's category affinity, then, in proportion
to it, :data:`FAVOURITE_BRANDS` favourite brands (weighted by the brand's share of each category) and
:data:`FAVOURITE_PRODUCTS` favourite products in the repeatable categories (``CategoryParams.repeatable``:
groceries, beauty), which they buy again and again.

The simulation keeps its demand model (how many lines of each product a region buys on a day: the planted
elasticities and seasons are untouched) and only changes *who* buys a line: once a line's persona is drawn,
with probability :data:`TASTE_SHARE` it goes to an active customer of that region and persona who holds the
line's brand or product as a favourite (in proportion to their shopping propensity), when there is one.
``truth/customer_affinities.csv`` lists every customer's favourites.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ingestion.world.params import CATEGORY_PARAMS, PERSONAS
from ingestion.world.random import rng_for

FAVOURITE_BRANDS = 2
FAVOURITE_PRODUCTS = 3
# Share of a line's chances that goes to the customers holding its brand or product as a favourite: about
# half of what a customer buys follows their own taste, the rest their persona's (and the shop's best-sellers).
TASTE_SHARE = 0.5
# Chance that a routed line of an everyday product held as a favourite goes to its holders rather than to the
# holders of its brand.
EVERYDAY_FIRST = 0.8
# Dirichlet concentration of a customer's category preference around their persona's affinity: lower means
# customers of one persona differ more.
CATEGORY_CONCENTRATION = 6.0


@dataclass(frozen=True)
class Taste:
    brands: np.ndarray  # brand names, sorted
    brand_of_product: np.ndarray  # [product] index into ``brands``
    favourite_brands: np.ndarray  # [customer, FAVOURITE_BRANDS] brand indexes
    favourite_products: np.ndarray  # [customer, FAVOURITE_PRODUCTS] product indexes (repeatable categories)

    def frame(self, customer_ids: np.ndarray, product_ids: np.ndarray) -> pd.DataFrame:
        """The planted favourites, one row per customer and favourite: customer_id, affinity_type (brand |
        product), affinity_value (brand name or product id), rank (1 = drawn first)."""
        n = len(customer_ids)
        parts = []
        for kind, values in (
            ("brand", self.brands[self.favourite_brands]),
            ("product", product_ids[self.favourite_products]),
        ):
            k = values.shape[1]
            parts.append(
                pd.DataFrame(
                    {
                        "customer_id": np.repeat(customer_ids, k),
                        "affinity_type": kind,
                        "affinity_value": values.reshape(-1),
                        "rank": np.tile(np.arange(1, k + 1), n),
                    }
                )
            )
        return pd.concat(parts, ignore_index=True).sort_values(["customer_id", "affinity_type", "rank"], kind="stable")


def _draw_distinct(rng: np.random.Generator, category_w: np.ndarray, item_w: np.ndarray, k: int) -> np.ndarray:
    """``k`` distinct items per row, each drawn in two steps: a category in proportion to the row's
    ``category_w`` [row, category], then an item in proportion to ``item_w`` [category, item]; a draw that
    repeats an earlier one of its row is drawn again (the law of drawing without replacement). Costs
    rows x k draws, not rows x items."""
    n = len(category_w)
    cat_cum = np.cumsum(category_w, axis=1)
    item_cum = np.cumsum(item_w, axis=1)
    offset = np.r_[0.0, np.cumsum(item_cum[:, -1])[:-1]]
    flat = (item_cum + offset[:, None]).reshape(-1)
    out = np.empty((n, k), dtype=np.int64)
    todo = np.ones((n, k), dtype=bool)
    while todo.any():
        rows, slots = np.nonzero(todo)
        u = rng.random((2, len(rows)))
        cat = (cat_cum[rows] < (u[0] * cat_cum[rows, -1])[:, None]).sum(axis=1)
        target = offset[cat] + u[1] * item_cum[cat, -1]
        out[rows, slots] = (np.searchsorted(flat, target, side="right") - cat * item_w.shape[1]).clip(
            0, item_w.shape[1] - 1
        )
        todo = np.zeros((n, k), dtype=bool)
        for j in range(1, k):
            todo[:, j] = (out[:, :j] == out[:, j : j + 1]).any(axis=1)
    return out


def generate_taste(seed: int, profiles: pd.DataFrame, products: pd.DataFrame) -> Taste:
    """Draw every customer's favourites (their own random stream: the rest of the world does not move)."""
    rng = rng_for(seed, "taste")
    categories = sorted(set(products["category_id"]))
    cat_of_product = pd.Index(categories).get_indexer(products["category_id"])
    persona_idx = pd.Index([p.name for p in PERSONAS]).get_indexer(profiles["persona"])
    affinity = np.array([[p.affinity.get(c, 1.0) for c in categories] for p in PERSONAS])
    alpha = CATEGORY_CONCENTRATION * affinity / affinity.sum(axis=1, keepdims=True) * len(categories)
    preference = rng.gamma(alpha[persona_idx])
    preference /= preference.sum(axis=1, keepdims=True)  # [customer, category]

    # A brand's weight for a customer: sum over categories of their preference x the brand's share of the
    # category's popularity (drawn as category, then brand).
    brands, brand_of_product = np.unique(products["brand"].to_numpy(dtype=str), return_inverse=True)
    popularity = products["popularity"].to_numpy()  # sums to 1 within each category
    brand_in_category = np.zeros((len(categories), len(brands)))
    np.add.at(brand_in_category, (cat_of_product, brand_of_product), popularity)
    favourite_brands = _draw_distinct(rng, preference, brand_in_category, FAVOURITE_BRANDS)

    # Everyday favourites: a repeatable category by preference, then a product by popularity.
    repeatable = [i for i, c in enumerate(categories) if c in {p.category_id for p in CATEGORY_PARAMS if p.repeatable}]
    product_in_category = np.zeros((len(repeatable), len(products)))
    for row, c in enumerate(repeatable):
        product_in_category[row] = np.where(cat_of_product == c, popularity, 0.0)
    favourite_products = _draw_distinct(rng, preference[:, repeatable], product_in_category, FAVOURITE_PRODUCTS)
    return Taste(brands.astype(object), brand_of_product, favourite_brands, favourite_products)


@dataclass(frozen=True)
class _Holders:
    """One side of the router (favourite brands or favourite products): the (group, item) pairs of every
    customer sorted by key = group x items + item, each key's run of pairs, and its largest weight."""

    n_items: int
    bounds: np.ndarray  # [key + 1]: key k's pairs are holder[bounds[k] : bounds[k + 1]] (one past the last key)
    holder: np.ndarray  # [pair] customer
    customer_keys: np.ndarray  # [customer, favourite] the customer's keys
    top: list[np.ndarray]  # per weight level, [key]: the largest weight among the key's holders
    active: np.ndarray  # [key + 1]: how many of the key's holders are active today (the last key: none)


class TasteRouter:
    """Routes a day's lines to customers holding their brand or product as a favourite.

    A line of group g (region x persona) and item i goes, when routed, to an active customer of group g holding
    i, in proportion to their shopping weight. The holder is drawn by rejection: a holder of the key picked
    uniformly is kept with probability weight / (the key's largest weight), else another is picked, which is
    exactly that law; it reads a few holders a line, where summing the weights of every run a day's lines
    touch read a million (the counts of active holders, kept as customers start and stop shopping, say whether
    a key has any).
    """

    def __init__(
        self,
        taste: Taste,
        group: np.ndarray,
        n_products: int,
        weights: list[np.ndarray],
        active_from: np.ndarray,
        active_until: np.ndarray,
    ) -> None:
        """``group``: every customer's region x persona; ``weights``: the shopping weights a customer can have
        (one array per level: ordinary days, gift season), of which :meth:`route` is told the day's;
        customer c is active on days ``active_from[c] <= t < active_until[c]``."""
        self.brand_of_product = taste.brand_of_product
        self.weights, self.active_from, self.active_until = weights, active_from, active_until
        n_groups = int(group.max()) + 1 if len(group) else 0
        self.sides: list[_Holders] = []
        for items, n_items in ((taste.favourite_brands, len(taste.brands)), (taste.favourite_products, n_products)):
            k = items.shape[1]
            customer_keys = group[:, None] * n_items + items
            order = np.argsort(customer_keys.reshape(-1), kind="stable")
            bounds = np.searchsorted(customer_keys.reshape(-1)[order], np.arange(n_groups * n_items + 1))
            holder = np.repeat(np.arange(len(group)), k)[order]
            runs = np.flatnonzero(np.diff(bounds))  # keys with holders: their runs end where the next begins
            top = []
            for w in weights:
                largest = np.zeros(len(bounds))
                if len(runs):
                    largest[runs] = np.maximum.reduceat(w[holder], bounds[runs])
                top.append(largest)
            active = np.zeros(len(bounds), dtype=np.int64)
            self.sides.append(_Holders(n_items, bounds, holder, customer_keys, top, active))
        # Customers by the day they start and stop shopping (those who never do left out), walked day by day.
        ever = np.flatnonzero(active_from < active_until)
        self._starting = ever[np.argsort(active_from[ever], kind="stable")]
        self._stopping = ever[np.argsort(active_until[ever], kind="stable")]
        self._start_days, self._stop_days = active_from[self._starting], active_until[self._stopping]
        self._started = self._stopped = 0

    def _advance(self, day: int) -> None:
        """Active-holder counts as of ``day`` (days only move forward)."""
        started = int(np.searchsorted(self._start_days, day, side="right"))
        stopped = int(np.searchsorted(self._stop_days, day, side="right"))
        joining, leaving = self._starting[self._started : started], self._stopping[self._stopped : stopped]
        self._started, self._stopped = started, stopped
        for side in self.sides:
            np.add.at(side.active, side.customer_keys[joining].reshape(-1), 1)
            np.subtract.at(side.active, side.customer_keys[leaving].reshape(-1), 1)

    def route(
        self,
        rng: np.random.Generator,
        day: int,
        line_group: np.ndarray,
        line_product: np.ndarray,
        level: int,
    ) -> np.ndarray:
        """The customer each line goes to by taste, or -1 where it stays with the day's visitors; ``level``
        names the day's weights."""
        self._advance(day)
        n = len(line_product)
        out = np.full(n, -1, dtype=np.int64)
        if not n:
            return out
        brand, product = (
            # A group with no holder at all lies past the table: its key is the last, which nobody holds.
            np.minimum(line_group * side.n_items + item, len(side.bounds) - 1)
            for side, item in zip(self.sides, (self.brand_of_product[line_product], line_product), strict=True)
        )
        has_brand, has_product = self.sides[0].active[brand] > 0, self.sides[1].active[product] > 0
        u = rng.random((2, n))
        routed = (u[0] < TASTE_SHARE) & (has_brand | has_product)
        # Everyday favourites come first: a customer re-buys their own coffee before trying their favourite
        # brand's other blends (and a line whose brand nobody holds goes to its product's holders).
        use_product = has_product & ((u[1] < EVERYDAY_FIRST) | ~has_brand)
        for side, key, chosen in ((0, brand, routed & ~use_product), (1, product, routed & use_product)):
            lines = np.flatnonzero(chosen)
            if len(lines):
                out[lines] = self._draw(rng, self.sides[side], key[lines], day, level)
        return out

    def _draw(self, rng: np.random.Generator, side: _Holders, key: np.ndarray, day: int, level: int) -> np.ndarray:
        """An active holder of each key (each has one) in proportion to its weight, by rejection: tries of a
        holder picked uniformly in the key's run, each kept with probability weight / the run's largest weight;
        the first kept try is the draw. Tries are made a batch a line at a time, more as lines stay undrawn."""
        weight, top = self.weights[level], side.top[level][key]
        lo = side.bounds[key]
        size = side.bounds[key + 1] - lo
        out = np.empty(len(key), dtype=np.int64)
        todo = np.arange(len(key))
        tries = 4
        while len(todo):
            u = rng.random((2, len(todo), tries))
            pick = lo[todo, None] + np.minimum((u[0] * size[todo, None]).astype(np.int64), size[todo, None] - 1)
            cand = side.holder[pick]
            active = (self.active_from[cand] <= day) & (day < self.active_until[cand])
            kept = active & (u[1] * top[todo, None] < weight[cand])
            done = kept.any(axis=1)
            out[todo[done]] = cand[done, kept[done].argmax(axis=1)]  # the first kept try of each line
            todo, tries = todo[~done], tries * 2
        return out
