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


class TasteRouter:
    """Routes a day's lines to customers holding their brand or product as a favourite.

    Holders are kept as (group, item) pairs sorted by key, group = region x persona; each day the pairs of
    active customers get their shopping weight, and a line of group g and item i takes the run of pairs with
    its key.
    """

    def __init__(
        self,
        taste: Taste,
        cust_region: np.ndarray,
        persona_idx: np.ndarray,
        n_personas: int,
        n_products: int,
    ) -> None:
        group = cust_region * n_personas + persona_idx
        self.brand_of_product = taste.brand_of_product
        self.n_brands, self.n_products = len(taste.brands), n_products
        self.is_everyday = np.zeros(n_products, dtype=bool)
        self.is_everyday[taste.favourite_products.reshape(-1)] = True
        # Per side: each key's run of pairs as a table over every possible key (runs of empty keys are
        # empty), so a line's run is two look-ups, not two binary searches a line and day.
        n_groups = int(group.max()) + 1 if len(group) else 0
        self.sides = []
        for items, n_items in ((taste.favourite_brands, self.n_brands), (taste.favourite_products, n_products)):
            k = items.shape[1]
            key = np.repeat(group, k) * n_items + items.reshape(-1)
            order = np.argsort(key, kind="stable")
            bounds = np.searchsorted(key[order], np.arange(n_groups * n_items + 1))
            self.sides.append((bounds, np.repeat(np.arange(len(group)), k)[order], n_items))
        # Work arrays of the day's pairs (a million at SF10), kept from day to day: fresh arrays of that size
        # were page-faulted in (and zeroed by the kernel) every day, about as costly as filling them.
        self._work: dict[tuple[int, str], np.ndarray] = {}

    def _array(self, side: int, name: str, n: int, dtype: type) -> np.ndarray:
        """A work array of ``n`` items (its contents are left over: the caller fills it)."""
        have = self._work.get((side, name))
        if have is None or len(have) < n:
            have = self._work[(side, name)] = np.empty(max(n, 1 << 16, 2 * len(have) if have is not None else 0), dtype)
        return have[:n]

    def route(
        self,
        rng: np.random.Generator,
        line_group: np.ndarray,
        line_product: np.ndarray,
        weight: np.ndarray,
    ) -> np.ndarray:
        """The customer each line goes to by taste, or -1 where it stays with the day's visitors.

        ``weight`` is every customer's shopping weight today (0 for customers not active)."""
        n = len(line_product)
        out = np.full(n, -1, dtype=np.int64)
        if not n:
            return out
        masses, spans = [], []
        for side, ((bounds, cust, n_items), item) in enumerate(
            zip(self.sides, (self.brand_of_product[line_product], line_product), strict=True)
        ):
            key = line_group * n_items + item
            # A group with no holder at all lies past the table: its runs are empty.
            key = np.minimum(key, len(bounds) - 1)
            lo = bounds[key]
            size = bounds[np.minimum(key + 1, len(bounds) - 1)] - lo
            start = np.cumsum(size) - size
            # Only the pairs in today's lines' ranges (about a million at scale 10), laid end to end: summing
            # every pair's weight each day cost more than the rest of the routing. The runs are summed in one
            # sequential cumulative sum (as ever: a draw's exact position depends on every sum before it).
            n_pairs = int(size.sum())
            pair = _runs(lo, size, start, self._array(side, "steps", n_pairs, np.int64))
            # Each pair's weight once, then the runs from it (they read it in order), when the runs outnumber
            # the pairs (a popular brand's holders, over and over); else straight from the customers. (Every
            # index is in range: mode="clip" only spares take() a buffered copy of its output.)
            w = self._array(side, "w", n_pairs, np.float64)
            if n_pairs > len(cust):
                np.take(weight[cust], pair, out=w, mode="clip")
            else:
                np.take(weight, np.take(cust, pair), out=w, mode="clip")
            cum = self._array(side, "cum", n_pairs + 1, np.float64)
            cum[0] = 0.0
            np.cumsum(w, out=cum[1:])
            masses.append(cum[start + size] - cum[start])
            spans.append((cum, start, size, pair, cust, w))
        mass_brand, mass_product = masses
        total = mass_brand + mass_product
        u = rng.random((3, n))
        routed = (u[0] < TASTE_SHARE) & (total > 0)
        # Everyday favourites come first: a customer re-buys their own coffee before trying their favourite
        # brand's other blends (and a line whose brand nobody holds goes to its product's holders).
        use_product = (mass_product > 0) & ((u[1] < EVERYDAY_FIRST) | (mass_brand <= 0))
        for side, chosen in ((0, routed & ~use_product), (1, routed & use_product)):
            if chosen.any():
                cum, start, size, pair, cust, w = spans[side]
                lo, hi = start[chosen], start[chosen] + size[chosen]
                target = cum[lo] + u[2, chosen] * masses[side][chosen]
                pos = np.clip(np.searchsorted(cum, target, side="right") - 1, lo, hi - 1)
                # Rounding can land a draw just past its range's last active pair: step back to it (the range
                # holds one, its mass is positive).
                for i in np.flatnonzero(w[pos] <= 0):
                    while w[pos[i]] <= 0:
                        pos[i] -= 1
                out[chosen] = cust[pair[pos]]
        return out


def _runs(lo: np.ndarray, size: np.ndarray, start: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The indexes ``lo[i] .. lo[i] + size[i] - 1`` of every run ``i`` end to end (``start`` = where each run
    begins in the output), written to ``out`` (``size.sum()`` items): a running sum of steps of one, with a jump
    to each run's first index. The repeat-and-add of an arange made three arrays of a million indexes a day."""
    out.fill(1)
    full = size > 0
    first, begin = lo[full], start[full]
    # The step into a run's first index from the previous run's last one (from 0 before the first run).
    out[begin] = first - np.r_[0, (first + size[full] - 1)[:-1]]
    return np.cumsum(out, out=out)
