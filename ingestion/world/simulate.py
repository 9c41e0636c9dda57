"""Day-by-day simulation: demand → stock-censored sales → shopping visits → orders; replenishment.

Each day: draw Poisson line counts from the demand model, pick the size variant, cut what the region's
warehouse cannot serve (planted and natural stockouts: lost sales), draw each line's persona (the active
customers' shopping propensity, category affinity, price sensitivity), hand some lines to a customer holding
the line's brand or product as a favourite (``ingestion.world.taste``) and the rest to the day's visitors.
Lines of one shopper on one day form one order. Stock is replenished with an (s, S) policy through suppliers
with random lead times, and some suppliers have planted disruptions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ingestion.world.calendar import HOUR_WEIGHTS
from ingestion.world.catalog import CHANNEL_PRICE_FACTOR, Catalog, round_price
from ingestion.world.customers import Customers
from ingestion.world.demand import DemandModel
from ingestion.world.marketing import Campaigns
from ingestion.world.params import CATEGORY_PARAMS, PERSONAS, WAREHOUSES, region_warehouse
from ingestion.world.random import rng_for
from ingestion.world.taste import Taste, TasteRouter

CHANNELS = np.array(list(CHANNEL_PRICE_FACTOR), dtype=object)
LINES_PER_VISIT = 2.0
DISRUPTED_SUPPLIER_SHARE = 0.12


@dataclass(frozen=True)
class Simulation:
    order_lines: pd.DataFrame  # one row per sold line, with order key, day, region, product, sku, warehouse
    orders: pd.DataFrame  # one row per order (visit with at least one line)
    lost_lines: pd.DataFrame  # day, region, product, sku, warehouse, units that stock could not serve
    stock: np.ndarray  # [day, warehouse, sku] units on hand at the end of the day
    purchase_orders: pd.DataFrame
    disruptions: pd.DataFrame  # supplier_id, starts_on, ends_on


def simulate(
    seed: int,
    days: pd.DatetimeIndex,
    catalog: Catalog,
    customers: Customers,
    demand: DemandModel,
    campaigns: Campaigns,
    taste: Taste,
) -> Simulation:
    rng = rng_for(seed, "simulation")
    # Lead times come from their own stream, so the stock policy (when and how much is reordered) never
    # shifts the demand and shopper draws.
    rng_lead = rng_for(seed, "replenishment")
    uplift = campaigns.campaigns["uplift"].to_numpy()
    products, variants = catalog.products, catalog.variants
    profiles = customers.profiles
    region_codes = demand.region_codes
    n_days, n_products = len(days), len(products)
    wh_ids = list(WAREHOUSES["warehouse_id"])
    wh_of_region = np.array([wh_ids.index(region_warehouse()[r]) for r in region_codes])

    # Variants: per product, cumulative shares over its SKUs (SKUs are contiguous per product).
    prod_index = {p: i for i, p in enumerate(products["product_id"])}
    sku_product = variants["product_id"].map(prod_index).to_numpy()
    first_sku = np.searchsorted(sku_product, np.arange(n_products))
    n_skus = len(variants)
    sku_share = variants["variant_share"].to_numpy()
    sku_cum = np.zeros(n_skus)
    for p0, p1 in zip(first_sku, np.append(first_sku[1:], n_skus), strict=True):
        sku_cum[p0:p1] = np.cumsum(sku_share[p0:p1])

    # Stock policy per warehouse × SKU from the mean demand served by each warehouse.
    lam_by_day = demand.expected_lines_by_day()  # [day, product, region]
    mean_lines = lam_by_day.mean(axis=0)  # [product, region]
    wh_mean = np.zeros((len(wh_ids), n_products))
    for r, w in enumerate(wh_of_region):
        wh_mean[w] += mean_lines[:, r]
    units_per_line = 1 + demand.quantity_extra
    daily_units = wh_mean[:, sku_product] * sku_share[None, :] * units_per_line[sku_product][None, :]
    suppliers = catalog.suppliers.set_index("supplier_id")
    sku_supplier = products["supplier_id"].to_numpy()[sku_product]
    lead_mean = suppliers.loc[sku_supplier, "lead_time_mean_days"].to_numpy()
    lead_sd = suppliers.loc[sku_supplier, "lead_time_sd_days"].to_numpy()
    # Planners hold enough safety stock to ride out promotions: demand surges rarely empty a shelf, so
    # stockouts come mostly from the planted supplier disruptions (and do not track prices).
    reorder_point = np.ceil(2.5 * daily_units * (lead_mean + 4)[None, :]).astype(np.int64) + 2
    order_up_to = reorder_point + np.ceil(daily_units * 28).astype(np.int64) + 2
    on_hand = order_up_to.copy()
    on_order = np.zeros_like(on_hand)
    arrivals = np.zeros((n_days + 400, len(wh_ids), n_skus), dtype=np.int64)
    disruptions = _disruptions(rng, catalog.suppliers["supplier_id"].to_numpy(), n_days)
    held_until = _held_until(disruptions, catalog.suppliers["supplier_id"].to_numpy(), n_days)
    sku_supplier_idx = pd.Index(catalog.suppliers["supplier_id"]).get_indexer(sku_supplier)
    if (sku_supplier_idx < 0).any():
        raise ValueError(f"products name suppliers missing from the catalog: {set(sku_supplier[sku_supplier_idx < 0])}")

    # Shoppers: persona parameters per customer.
    persona_names = [p.name for p in PERSONAS]
    persona_idx = profiles["persona"].map({n: i for i, n in enumerate(persona_names)}).to_numpy()
    visits_w = np.array([p.visits_per_year for p in PERSONAS])[persona_idx]
    gift_boost = np.array([p.gift_season_boost for p in PERSONAS])[persona_idx]
    basket_w = np.array([p.basket_lines for p in PERSONAS])[persona_idx] * rng.lognormal(0, 0.25, len(profiles))
    signup_day = (profiles["signed_up_at"].dt.normalize() - days[0]).dt.days.to_numpy()
    lapse_day = (profiles["lapsed_from"] - days[0]).dt.days.fillna(10**9).to_numpy()
    cust_region = profiles["region_code"].map({r: i for i, r in enumerate(region_codes)}).to_numpy()
    n_regions, n_personas = len(region_codes), len(PERSONAS)
    n_groups = n_regions * n_personas
    group_of = cust_region * n_personas + persona_idx  # region x persona of every customer
    by_group = np.argsort(group_of, kind="stable")  # customers grouped by region x persona
    gift_visits_w = visits_w * gift_boost
    # The per-customer columns a day reads, laid out once in that grouped order: gathering them through
    # ``by_group`` every day cost more than the day's draws. Products of two columns are taken here, element
    # by element, so they are the same numbers the days computed.
    signup_g, lapse_g, group_g = signup_day[by_group], lapse_day[by_group], group_of[by_group]
    visits_g_w, gift_visits_g_w = visits_w[by_group], gift_visits_w[by_group]
    shop_g_w, gift_shop_g_w = visits_g_w * basket_w[by_group], gift_visits_g_w * basket_w[by_group]
    cat_codes = {c: i for i, c in enumerate(sorted(set(products["category_id"])))}
    prod_cat = products["category_id"].map(cat_codes).to_numpy()
    affinity = np.ones((len(PERSONAS), len(cat_codes)))
    for k, p in enumerate(PERSONAS):
        for c, mult in p.affinity.items():
            if c in cat_codes:
                affinity[k, cat_codes[c]] = mult
    price_sens = np.array([p.price_sensitivity for p in PERSONAS])
    premium = np.array([p.premium_taste for p in PERSONAS])
    ref = products["ref_price_cents"].to_numpy().astype(float)
    cat_median = pd.Series(ref).groupby(prod_cat).transform("median").to_numpy()
    rel_price = ref / cat_median
    gift_days = (days.month == 11) & (days.day >= 20) | (days.month == 12) & (days.day <= 24)

    # The router's two weight levels, every customer's shopping weight on ordinary days and in the gift season
    # (the `weight` of the day's active customers below).
    router = TasteRouter(
        taste, group_of, n_products, [visits_w * basket_w, gift_visits_w * basket_w], signup_day, lapse_day
    )
    # Taste routing draws from its own stream: the demand and visitor draws stay as they were.
    rng_taste = rng_for(seed, "taste_routing")
    repeatable_categories = {p.category_id for p in CATEGORY_PARAMS if p.repeatable}
    repeatable = products["category_id"].isin(repeatable_categories).to_numpy()
    # customer x product bought so far outside the repeatable categories, of one of the customer's favourite
    # brands: the only purchases the check below looks up (a routed line outside the repeatable categories
    # went to a holder of its brand), a third of them.
    owned: set[int] = set()
    favourite_brands, brand_of_product = taste.favourite_brands, taste.brand_of_product
    book, lost_frames, po_rows = _OrderBook(rng, cust_region, persona_idx), _Columns(), _Columns()
    stock_history = np.zeros((n_days, len(wh_ids), n_skus), dtype=np.int32)
    # Each campaign's treated members in the grouped order of `act` below (so by region).
    treated_grouped = [by_group[treated[by_group]] for treated in campaigns.treated]
    for t in range(n_days):
        on_hand += arrivals[t]
        on_order -= arrivals[t]
        lam = lam_by_day[t]  # [product, region]
        counts = rng.poisson(lam)
        prod_l, reg_l = np.nonzero(counts)
        reps = counts[prod_l, reg_l]
        prod_l, reg_l = np.repeat(prod_l, reps), np.repeat(reg_l, reps)
        sku_l = _pick_skus(rng, prod_l, first_sku, sku_product, sku_cum)
        wh_l = wh_of_region[reg_l]
        qty_l = 1 + rng.poisson(demand.quantity_extra[prod_l])

        # Stock censoring: serve lines in random order while the warehouse has the units.
        served_units = _serve_from_stock(rng, on_hand, wh_l, sku_l, qty_l, n_skus)
        short = served_units < qty_l
        if short.any():
            lost_frames.add(
                day=t,
                region=reg_l[short],
                product=prod_l[short],
                sku=sku_l[short],
                warehouse=wh_l[short],
                units=(qty_l - served_units)[short],
            )
        served = served_units > 0
        qty_l = served_units
        prod_l, reg_l, sku_l, wh_l, qty_l = (a[served] for a in (prod_l, reg_l, sku_l, wh_l, qty_l))

        # Shoppers and their orders: every region at once (a loop per region cost more in NumPy call
        # overhead than the draws themselves). Lines of a region without an active customer go unrecorded.
        # Positions, not a boolean mask: indexing with a mask that scatters like this one cost ten times a
        # take of its positions.
        alive = np.flatnonzero((signup_g <= t) & (lapse_g > t))
        act = by_group.take(alive)  # active customers, grouped by region x persona (so by region too)
        act_group = group_g.take(alive)
        # act_group is sorted: each group's count is where its run ends less where it starts.
        n_active_g = np.diff(np.searchsorted(act_group, np.arange(n_groups + 1)))
        n_active_r = n_active_g.reshape(n_regions, n_personas).sum(axis=1)
        shopped = n_active_r[reg_l] > 0
        prod_l, reg_l, sku_l, wh_l, qty_l = (a[shopped] for a in (prod_l, reg_l, sku_l, wh_l, qty_l))
        if len(prod_l):
            weight = (gift_shop_g_w if gift_days[t] else shop_g_w).take(alive)
            # Persona of each line's shopper: the region's active customers' shopping propensity by persona
            # (visits x basket) x the persona's affinity for the category x price sensitivity x taste for
            # expensive items.
            discount_t = catalog.discount[:, t]
            factor = (
                affinity[:, prod_cat[prod_l]]
                * (1 - discount_t[prod_l])[None, :] ** (-price_sens[:, None])
                * rel_price[prod_l][None, :] ** premium[:, None]
            )
            mass_g = _group_sums(weight, n_active_g)
            persona_cum = np.cumsum(factor * mass_g.reshape(n_regions, n_personas)[reg_l].T, axis=0)
            pick = (persona_cum < rng.random(len(prod_l))[None, :] * persona_cum[-1][None, :]).sum(axis=0)
            line_group = reg_l * n_personas + pick
            # Per-customer taste: some lines go to an active customer of the same region and persona who
            # holds the line's brand or product as a favourite; they shop today.
            by_taste = router.route(rng_taste, t, line_group, prod_l, level=int(gift_days[t]))
            # A favourite brand's sofa is bought once: outside the repeatable categories a holder who already
            # owns the product leaves the line to the day's visitors.
            again = np.flatnonzero((by_taste >= 0) & ~repeatable[prod_l])
            if len(again):
                owned_keys = by_taste[again] * n_products + prod_l[again]
                # The set finds the owned keys in one C loop; a membership test per key in the whole set cost more.
                keys = owned_keys.tolist()
                seen = owned.intersection(keys)
                if seen:  # a look-up in the day's few owned keys, not in everything bought so far
                    by_taste[again[np.isin(owned_keys, np.fromiter(seen, np.int64, len(seen)))]] = -1
            stay = by_taste < 0
            holders = np.unique(by_taste[~stay])
            # The region's visits (about one per LINES_PER_VISIT lines, as many as without taste) shared among
            # its personas by visit propensity, so that a persona's lines per visit follow its basket propensity;
            # the holders are visitors already. Drawn per region and persona in proportion to visit propensity.
            visit_w = (gift_visits_g_w if gift_days[t] else visits_g_w).take(alive)
            visits_g = _group_sums(visit_w, n_active_g).reshape(n_regions, n_personas)
            wanted_r = np.ceil(np.bincount(reg_l, minlength=n_regions) / LINES_PER_VISIT)
            target_g = (wanted_r[:, None] * visits_g / np.maximum(visits_g.sum(axis=1, keepdims=True), 1e-12)).ravel()
            n_holders_g = np.bincount(group_of[holders], minlength=n_groups)
            wanted = np.floor(target_g + rng.random(n_groups)).astype(np.int64) - n_holders_g
            needs_one = (np.bincount(line_group[stay], minlength=n_groups) > 0) & (n_holders_g == 0)
            n_visits_g = np.minimum(n_active_g, np.maximum(wanted, needs_one.astype(np.int64)))
            drawn = _draw_visitors(rng, act, visit_w, n_active_g, n_visits_g)
            visitors = np.union1d(drawn, holders)
            # The lines that stay: within their region and persona, a visitor in proportion to their basket
            # propensity; a routed line goes to its holder.
            group_v = group_of[visitors]
            visitors = visitors[np.argsort(group_v, kind="stable")]
            n_group = np.bincount(group_v, minlength=n_groups)
            visit_of_line = np.empty(len(prod_l), dtype=np.int64)
            visit_of_line[stay] = _draw_in_groups(rng, basket_w[visitors], n_group, line_group[stay])
            position = np.empty(len(profiles), dtype=np.int64)
            position[visitors] = np.arange(len(visitors))
            visit_of_line[~stay] = position[by_taste[~stay]]
            book.add(t, visit_of_line, visitors, product=prod_l, sku=sku_l, warehouse=wh_l, quantity=qty_l)
            buyers = visitors[visit_of_line]
            once = ~repeatable[prod_l] & (favourite_brands[buyers] == brand_of_product[prod_l][:, None]).any(axis=1)
            owned.update((buyers[once] * n_products + prod_l[once]).tolist())

            # Campaign uplift: each line a treated audience member bought today brings `uplift` extra lines
            # on average, bought by treated members of the same campaign in the same region (new orders).
            cum_lam = None
            for c in campaigns.active(t):
                treated = campaigns.treated[c]
                n_extra_r = rng.poisson(uplift[c] * np.bincount(reg_l, weights=treated[buyers], minlength=n_regions))
                # The campaign's active treated members, in the grouped order of `act`: its treated members,
                # filtered by who is active today (filtering the day's active customers by treatment read
                # every one of them, for each campaign).
                members = treated_grouped[c]
                pool_c = members[(signup_day[members] <= t) & (lapse_day[members] > t)]
                n_pool_r = np.bincount(cust_region[pool_c], minlength=n_regions)
                n_extra_r[n_pool_r == 0] = 0
                if not n_extra_r.sum():
                    continue
                if cum_lam is None:
                    cum_lam = _GroupedCumulative(lam.T)
                x_reg = np.repeat(np.arange(n_regions), n_extra_r)
                x_prod = cum_lam.draw(rng, x_reg)
                x_sku = _pick_skus(rng, x_prod, first_sku, sku_product, sku_cum)
                x_wh = wh_of_region[x_reg]
                x_qty = _serve_from_stock(
                    rng, on_hand, x_wh, x_sku, 1 + rng.poisson(demand.quantity_extra[x_prod]), n_skus
                )
                x_cust = pool_c[_draw_in_groups(rng, visits_w[pool_c], n_pool_r, x_reg)]
                keep = x_qty > 0
                x_prod, x_sku, x_wh, x_qty, x_cust = (a[keep] for a in (x_prod, x_sku, x_wh, x_qty, x_cust))
                if not len(x_cust):
                    continue
                # One new order per customer: the order is keyed by the customer themselves.
                book.add(t, x_cust, None, product=x_prod, sku=x_sku, warehouse=x_wh, quantity=x_qty)

        # Replenishment: (s, S) with supplier lead times; disrupted suppliers deliver after the disruption.
        # Checked after every sale of the day (campaign extras included), then the end-of-day snapshot is
        # taken, so on hand today = yesterday + received - sold holds for every day.
        position = on_hand + on_order
        need_w, need_s = np.nonzero(position <= reorder_point)
        if len(need_w):
            qty = order_up_to[need_w, need_s] - position[need_w, need_s]
            lead = np.maximum(1, np.round(rng_lead.normal(lead_mean[need_s], lead_sd[need_s]))).astype(np.int64)
            held = held_until[t, sku_supplier_idx[need_s]]
            arrive = np.where(held >= 0, held, t) + lead
            arrivals[arrive, need_w, need_s] += qty  # (warehouse, SKU) pairs are unique: no repeated index
            on_order[need_w, need_s] += qty
            po_rows.add(
                day=t,
                warehouse=need_w,
                sku=need_s,
                quantity=qty,
                expected_day=t + np.round(lead_mean[need_s]).astype(int),
                arrival_day=arrive,
            )
        stock_history[t] = on_hand

    orders = book.orders.frame()
    lines = book.lines.frame()
    lost = lost_frames.frame(["day", "region", "product", "sku", "warehouse", "units"])
    pos = po_rows.frame()
    return Simulation(lines, orders, lost, stock_history, pos, _disruption_frame(disruptions, days))


def _held_until(disruptions: pd.DataFrame, supplier_ids: np.ndarray, n_days: int) -> np.ndarray:
    """[day, supplier]: the last day of the disruption a purchase order placed that day waits for, or -1
    (when windows of one supplier overlap, the one listed last wins)."""
    held = np.full((n_days, len(supplier_ids)), -1, dtype=np.int64)
    column = pd.Index(supplier_ids).get_indexer(disruptions["supplier_id"])
    for s, a, b in zip(column, disruptions["start"], disruptions["end"], strict=True):
        held[a : b + 1, s] = b
    return held


class _Columns:
    """Column chunks collected day by day and concatenated once at the end: building a DataFrame per day and
    region cost more than the whole simulation's arithmetic."""

    def __init__(self) -> None:
        self.chunks: dict[str, list[np.ndarray]] = {}

    def add(self, **columns: np.ndarray | int) -> None:
        n = max(np.size(v) for v in columns.values() if np.ndim(v))
        for name, values in columns.items():
            self.chunks.setdefault(name, []).append(np.full(n, values) if np.ndim(values) == 0 else values)

    def frame(self, columns: list[str] | None = None) -> pd.DataFrame:
        if not self.chunks:
            return pd.DataFrame(columns=columns)
        # The concatenations are fresh arrays: copy=False spares pandas copying them into one block again.
        return pd.DataFrame({name: np.concatenate(parts) for name, parts in self.chunks.items()}, copy=False)


class _OrderBook:
    """The simulation's orders and their lines, numbered in the order they are placed. Regular and campaign
    orders are recorded the same way, so they draw channel and time of day alike."""

    def __init__(self, rng: np.random.Generator, cust_region: np.ndarray, persona_idx: np.ndarray) -> None:
        self.rng, self.cust_region, self.persona_idx = rng, cust_region, persona_idx
        self.orders, self.lines = _Columns(), _Columns()
        self.next_seq = 0

    def add(self, t: int, owner: np.ndarray, customer_of: np.ndarray | None, **lines: np.ndarray) -> None:
        """Day ``t``'s new orders: one per distinct ``owner`` of a line (in ascending owner order), placed by
        customer ``customer_of[owner]`` (the owner itself when ``customer_of`` is None), with its ``lines``."""
        owners, order_of_line = np.unique(owner, return_inverse=True)
        customers = owners if customer_of is None else customer_of[owners]
        ids = np.arange(self.next_seq, self.next_seq + len(owners))
        self.next_seq += len(owners)
        region = self.cust_region[customers]
        self.orders.add(**_new_orders(self.rng, ids, t, region, customers, self.persona_idx))
        self.lines.add(order_seq=ids[order_of_line], day=t, **lines)


# Groups where more than this share of the active customers visit are drawn by an exponential race: there,
# draws that repeat a visitor already drawn would be most of the draws.
RACE_SHARE = 0.25


def _draw_visitors(
    rng: np.random.Generator, act: np.ndarray, weight: np.ndarray, n_active_g: np.ndarray, n_visits_g: np.ndarray
) -> np.ndarray:
    """``n_visits_g[g]`` customers of each group drawn without replacement in proportion to their weight
    (successive sampling: each next visitor in proportion to weight among those not drawn yet); ``act`` is
    grouped with ``n_active_g`` customers in each group.

    Each group's customers are drawn with replacement, by rejection (a customer picked uniformly in the group is
    kept with probability weight / the group's largest weight), repeats dropped, and the missing ones drawn
    again until each group has its count: the distinct customers of the shortest run of draws that holds that
    many, which is the law of successive sampling. A day's visits are a few percent of the active customers,
    so this reads a few thousand of them, where a race of exponential keys drew one per active customer (and a
    cumulative sum of the weights read them all). (Visit weights are the persona's, equal within a group: no
    try is rejected today, but the draw does not rely on it.)"""
    ends = np.cumsum(n_active_g)
    starts = ends - n_active_g
    chosen = []
    # The exponential race (Efraimidis-Spirakis: the k smallest Exp(1) / weight), the same law, where most visit.
    race = n_visits_g > RACE_SHARE * n_active_g
    for g in np.flatnonzero(race):
        keys = rng.standard_exponential(n_active_g[g]) / weight[starts[g] : ends[g]]
        chosen.append(starts[g] + np.argpartition(keys, n_visits_g[g] - 1)[: n_visits_g[g]])
    top = np.zeros(len(n_active_g))
    full = np.flatnonzero(n_active_g)
    if len(full):
        top[full] = np.maximum.reduceat(weight, starts[full])
    wanted = np.where(race, 0, n_visits_g)
    drawn, need = np.zeros(0, dtype=np.int64), wanted
    while need.any():
        group = np.repeat(np.arange(len(need)), need)
        u = rng.random((2, len(group)))
        position = starts[group] + np.minimum((u[0] * n_active_g[group]).astype(np.int64), n_active_g[group] - 1)
        kept = u[1] * top[group] < weight[position]
        drawn = np.union1d(drawn, position[kept])
        need = wanted - np.bincount(np.searchsorted(ends, drawn, side="right"), minlength=len(need))
    chosen.append(drawn)
    return act[np.concatenate(chosen)]


def _group_sums(values: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Sums of ``values`` laid out as consecutive groups of ``sizes`` (0 for an empty group): a reduceat over
    the groups, several times faster than a weighted bincount of every value's group."""
    sums = np.zeros(len(sizes))
    full = np.flatnonzero(sizes)
    if len(full):
        sums[full] = np.add.reduceat(values, (np.cumsum(sizes) - sizes)[full])
    return sums


def _draw_in_groups(rng: np.random.Generator, weights: np.ndarray, sizes: np.ndarray, group: np.ndarray) -> np.ndarray:
    """For each entry of ``group``, an index into ``weights`` (laid out as consecutive groups of ``sizes``)
    drawn in proportion to the weights inside that group; every drawn group must have positive weight."""
    cum = np.cumsum(weights)
    ends = np.cumsum(sizes)
    starts = ends - sizes
    below = np.r_[0.0, cum][starts]
    total = np.r_[0.0, cum][ends] - below
    draws = below[group] + rng.random(len(group)) * total[group]
    return np.searchsorted(cum, draws, side="right").clip(starts[group], np.maximum(ends[group] - 1, starts[group]))


class _GroupedCumulative:
    """Weighted draws of a column index from a chosen row of ``weights`` [group, item], all rows searched at
    once: row g's cumulative weights are offset by the totals of the rows before it, so the flat array rises."""

    def __init__(self, weights: np.ndarray) -> None:
        cum = np.cumsum(weights, axis=1)
        self.size, self.total = weights.shape[1], cum[:, -1]
        self.offset = np.r_[0.0, np.cumsum(self.total)[:-1]]
        self.flat = (cum + self.offset[:, None]).reshape(-1)

    def draw(self, rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
        target = self.offset[group] + rng.random(len(group)) * self.total[group]
        index = np.searchsorted(self.flat, target, side="right") - group * self.size
        return index.clip(0, self.size - 1)


CHANNEL_MIX = np.array([p.channel_mix for p in PERSONAS])
CHANNEL_CUM = CHANNEL_MIX.cumsum(axis=1)
HOUR_CUM = np.cumsum(HOUR_WEIGHTS / HOUR_WEIGHTS.sum())


def _new_orders(
    rng: np.random.Generator, ids: np.ndarray, t: int, r: int, customers: np.ndarray, persona_idx: np.ndarray
) -> dict[str, np.ndarray | int]:
    """Orders of ``customers`` on day ``t`` in regions ``r``: channel from the persona's mix, time of day from
    the shopping curve."""
    cum_mix = CHANNEL_CUM[persona_idx[customers]]
    channel = (cum_mix < rng.random(len(customers))[:, None]).sum(axis=1)
    hour = np.searchsorted(HOUR_CUM, rng.random(len(customers)), side="right").clip(0, 23)
    return {
        "order_seq": ids,
        "day": t,
        "region": r,
        "customer": customers,
        "channel": np.minimum(channel, 2),
        "second": hour * 3600 + rng.integers(0, 3600, len(customers)),
    }


def _pick_skus(
    rng: np.random.Generator, prod: np.ndarray, first_sku: np.ndarray, sku_product: np.ndarray, sku_cum: np.ndarray
) -> np.ndarray:
    """Variant of each line: the first SKU of its product whose cumulative size share exceeds a uniform draw
    (SKUs of a product are contiguous, at most five)."""
    n_skus = len(sku_product)
    u = rng.random(len(prod))
    p0 = first_sku[prod]
    offset = np.zeros(len(prod), dtype=np.int64)
    for k in range(1, 5):
        nxt = p0 + k
        ok = (nxt < n_skus) & (sku_product[np.minimum(nxt, n_skus - 1)] == prod)
        offset += ok & (u > sku_cum[p0 + offset])
    return p0 + offset


def _serve_from_stock(
    rng: np.random.Generator, on_hand: np.ndarray, wh_l: np.ndarray, sku_l: np.ndarray, qty_l: np.ndarray, n_skus: int
) -> np.ndarray:
    """Units each line gets, taking lines in random order until each SKU's stock runs out (the line that
    empties the shelf gets what is left); ``on_hand`` is reduced by what is served."""
    n_l = len(qty_l)
    served = np.zeros(n_l, dtype=np.int64)
    if not n_l:
        return served
    order = rng.permutation(n_l)
    key = wh_l[order] * n_skus + sku_l[order]
    sort = np.argsort(key, kind="stable")
    ordered = order[sort]
    cum = np.cumsum(qty_l[ordered])
    group_start = np.r_[0, np.flatnonzero(np.diff(key[sort])) + 1]
    before_group = np.repeat(cum[group_start] - qty_l[ordered][group_start], np.diff(np.r_[group_start, n_l]))
    available = on_hand[wh_l[ordered], sku_l[ordered]]
    already = cum - qty_l[ordered] - before_group
    served[ordered] = np.clip(available - already, 0, qty_l[ordered])
    np.subtract.at(on_hand, (wh_l, sku_l), served)
    return served


def _disruptions(rng: np.random.Generator, supplier_ids: np.ndarray, n_days: int) -> pd.DataFrame:
    """Planted supplier disruptions: a window during which purchase orders are held until it ends."""
    chosen = rng.choice(supplier_ids, max(1, int(len(supplier_ids) * DISRUPTED_SUPPLIER_SHARE)), replace=False)
    start = rng.integers(20, max(21, n_days - 40), len(chosen))
    length = rng.integers(30, 61, len(chosen))
    return pd.DataFrame({"supplier_id": chosen, "start": start, "end": np.minimum(start + length, n_days - 1)})


def _disruption_frame(disruptions: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
    return (
        pd.DataFrame(
            {
                "supplier_id": disruptions["supplier_id"],
                "starts_on": days[disruptions["start"].to_numpy()].date,
                "ends_on": days[disruptions["end"].to_numpy()].date,
            }
        )
        .sort_values(["starts_on", "supplier_id"])
        .reset_index(drop=True)
    )


def price_lines(lines: pd.DataFrame, orders: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Attach channel shelf prices and markdown discounts (integer cents) to the sold lines."""
    channel = orders.set_index("order_seq")["channel"].reindex(lines["order_seq"]).to_numpy()
    ref = catalog.products["ref_price_cents"].to_numpy()
    list_cents = ref[lines["product"]] * catalog.list_multiplier[lines["product"], lines["day"]]
    factor = np.array(list(CHANNEL_PRICE_FACTOR.values()))[channel]
    unit_price = round_price(list_cents * factor)
    discount_rate = catalog.discount[lines["product"], lines["day"]]
    discount = np.floor(lines["quantity"].to_numpy() * unit_price * discount_rate + 0.5).astype(np.int64)
    return lines.assign(
        unit_price_cents=unit_price,
        discount_cents=discount,
        line_amount_cents=lines["quantity"].to_numpy() * unit_price - discount,
    )
