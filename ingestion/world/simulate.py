"""Day-by-day simulation: demand → stock-censored sales → shopping visits → orders; replenishment.

Each day: draw Poisson line counts from the demand model, pick the size variant, cut what the region's
warehouse cannot serve (planted and natural stockouts: lost sales), choose which customers shop (persona
visit propensity) and hand each line to a shopper (persona basket size, category affinity, price
sensitivity). Lines of one shopper on one day form one order. Stock is replenished with an (s, S) policy
through suppliers with random lead times, and some suppliers have planted disruptions.
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
from ingestion.world.params import PERSONAS, WAREHOUSES, region_warehouse
from ingestion.world.random import rng_for

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
    mean_lines = demand.mean_daily_lines()  # [product, region]
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
    disrupted_until = {}  # supplier -> (start, end)
    for s, a, b in disruptions.itertuples(index=False):
        disrupted_until.setdefault(s, []).append((a, b))

    # Shoppers: persona parameters per customer.
    persona_names = [p.name for p in PERSONAS]
    persona_idx = profiles["persona"].map({n: i for i, n in enumerate(persona_names)}).to_numpy()
    visits_w = np.array([p.visits_per_year for p in PERSONAS])[persona_idx]
    gift_boost = np.array([p.gift_season_boost for p in PERSONAS])[persona_idx]
    basket_w = np.array([p.basket_lines for p in PERSONAS])[persona_idx] * rng.lognormal(0, 0.25, len(profiles))
    signup_day = (profiles["signed_up_at"].dt.normalize() - days[0]).dt.days.to_numpy()
    lapse_day = (profiles["lapsed_from"] - days[0]).dt.days.fillna(10**9).to_numpy()
    cust_region = profiles["region_code"].map({r: i for i, r in enumerate(region_codes)}).to_numpy()
    by_region = [np.flatnonzero(cust_region == r) for r in range(len(region_codes))]
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

    line_frames, order_frames, lost_frames, po_rows = _Columns(), _Columns(), _Columns(), _Columns()
    stock_history = np.zeros((n_days, len(wh_ids), n_skus), dtype=np.int32)
    order_seq = 0
    for t in range(n_days):
        on_hand += arrivals[t]
        on_order -= arrivals[t]
        lam = demand.expected_lines(t)  # [product, region]
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

        # Shoppers and their orders, region by region.
        discount_t = catalog.discount[:, t]
        for r in range(len(region_codes)):
            in_r = reg_l == r
            n_lines_r = int(in_r.sum())
            if not n_lines_r:
                continue
            pool = by_region[r]
            active = pool[(signup_day[pool] <= t) & (lapse_day[pool] > t)]
            if not len(active):
                continue
            n_visits = min(len(active), max(1, int(np.ceil(n_lines_r / LINES_PER_VISIT))))
            weight = visits_w[active] * np.where(gift_days[t], gift_boost[active], 1.0)
            keys = np.log(weight) + rng.gumbel(size=len(active))
            visitors = active[np.argpartition(-keys, n_visits - 1)[:n_visits]]
            v_persona = persona_idx[visitors]
            lines_r = np.flatnonzero(in_r)
            lp = prod_l[lines_r]
            # Persona factor per line: affinity × price sensitivity × taste for expensive items.
            factor = (
                affinity[:, prod_cat[lp]]
                * (1 - discount_t[lp])[None, :] ** (-price_sens[:, None])
                * rel_price[lp][None, :] ** premium[:, None]
            )
            basket_by_persona = np.bincount(v_persona, weights=basket_w[visitors], minlength=len(PERSONAS))
            persona_w = factor * basket_by_persona[:, None]
            persona_cum = np.cumsum(persona_w, axis=0)
            pick = (persona_cum < rng.random(len(lp))[None, :] * persona_cum[-1][None, :]).sum(axis=0)
            # Within the chosen persona, a visitor in proportion to their basket propensity.
            visit_of_line = np.empty(len(lp), dtype=np.int64)
            for k in np.unique(pick):
                members = np.flatnonzero(v_persona == k)
                cum_b = np.cumsum(basket_w[visitors[members]])
                draws = rng.random(int((pick == k).sum())) * cum_b[-1]
                visit_of_line[pick == k] = members[
                    np.searchsorted(cum_b, draws, side="right").clip(0, len(members) - 1)
                ]
            used = np.unique(visit_of_line)
            order_ids = np.arange(order_seq, order_seq + len(used))
            order_seq += len(used)
            order_of_visit = np.full(n_visits, -1)
            order_of_visit[used] = order_ids
            order_frames.add(**_new_orders(rng, order_ids, t, r, visitors[used], persona_idx))
            line_frames.add(
                order_seq=order_of_visit[visit_of_line],
                day=t,
                product=lp,
                sku=sku_l[lines_r],
                warehouse=wh_l[lines_r],
                quantity=qty_l[lines_r],
            )

            # Campaign uplift: each line a treated audience member bought today brings `uplift` extra lines
            # on average, bought by treated members of the same campaign (new orders, same day).
            buyers = visitors[visit_of_line]
            for c in campaigns.active(t):
                treated = campaigns.treated[c]
                n_extra = rng.poisson(uplift[c] * treated[buyers].sum())
                pool_c = active[treated[active]]
                if not n_extra or not len(pool_c):
                    continue
                lam_r = lam[:, r]
                x_prod = rng.choice(len(lam_r), n_extra, p=lam_r / lam_r.sum())
                x_sku = _pick_skus(rng, x_prod, first_sku, sku_product, sku_cum)
                x_wh = np.full(n_extra, wh_of_region[r])
                x_qty = _serve_from_stock(
                    rng, on_hand, x_wh, x_sku, 1 + rng.poisson(demand.quantity_extra[x_prod]), n_skus
                )
                w_c = visits_w[pool_c]
                x_cust = pool_c[rng.choice(len(pool_c), n_extra, p=w_c / w_c.sum())]
                keep = x_qty > 0
                x_prod, x_sku, x_wh, x_qty, x_cust = (a[keep] for a in (x_prod, x_sku, x_wh, x_qty, x_cust))
                if not len(x_cust):
                    continue
                x_customers, x_order = np.unique(x_cust, return_inverse=True)
                x_ids = np.arange(order_seq, order_seq + len(x_customers))
                order_seq += len(x_customers)
                order_frames.add(**_new_orders(rng, x_ids, t, r, x_customers, persona_idx))
                line_frames.add(
                    order_seq=x_ids[x_order],
                    day=t,
                    product=x_prod,
                    sku=x_sku,
                    warehouse=x_wh,
                    quantity=x_qty,
                )

        # Replenishment: (s, S) with supplier lead times; disrupted suppliers deliver after the disruption.
        # Checked after every sale of the day (campaign extras included), then the end-of-day snapshot is
        # taken, so on hand today = yesterday + received - sold holds for every day.
        position = on_hand + on_order
        need_w, need_s = np.nonzero(position <= reorder_point)
        if len(need_w):
            qty = order_up_to[need_w, need_s] - position[need_w, need_s]
            lead = np.maximum(1, np.round(rng_lead.normal(lead_mean[need_s], lead_sd[need_s]))).astype(np.int64)
            arrive = t + lead
            for j, sup in enumerate(sku_supplier[need_s]):
                for a, b in disrupted_until.get(sup, ()):
                    if a <= t <= b:
                        arrive[j] = b + lead[j]
            np.add.at(arrivals, (arrive, need_w, need_s), qty)
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

    orders = order_frames.frame()
    lines = line_frames.frame()
    lost = lost_frames.frame(["day", "region", "product", "sku", "warehouse", "units"])
    pos = po_rows.frame()
    return Simulation(lines, orders, lost, stock_history, pos, _disruption_frame(disruptions, days))


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
        return pd.DataFrame({name: np.concatenate(parts) for name, parts in self.chunks.items()})


CHANNEL_MIX = np.array([p.channel_mix for p in PERSONAS])
HOUR_P = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()


def _new_orders(
    rng: np.random.Generator, ids: np.ndarray, t: int, r: int, customers: np.ndarray, persona_idx: np.ndarray
) -> dict[str, np.ndarray | int]:
    """Orders of ``customers`` on day ``t`` in region ``r``: channel from the persona's mix, time of day from
    the shopping curve."""
    mix = CHANNEL_MIX[persona_idx[customers]]
    channel = (mix.cumsum(axis=1) < rng.random(len(customers))[:, None]).sum(axis=1)
    hour = rng.choice(24, len(customers), p=HOUR_P)
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
