"""Assemble the synthetic world from its components (pure: nothing is written here)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from futuremart.settings import Settings
from ingestion.world.catalog import Catalog, generate_catalog
from ingestion.world.clickstream import Clickstream, build_clickstream
from ingestion.world.competitors import generate_competitor_prices
from ingestion.world.customers import generate_customers
from ingestion.world.demand import build_demand_model
from ingestion.world.fulfilment import fulfil
from ingestion.world.ids import labels, lexsort, positions, sequential_ids, take_text
from ingestion.world.marketing import Campaigns, ad_spend, email_events, plan_campaigns
from ingestion.world.params import WAREHOUSES, region_warehouse
from ingestion.world.pools import build_pools
from ingestion.world.random import rng_for
from ingestion.world.reference import read_categories, read_regions
from ingestion.world.security import data_access_events, login_events
from ingestion.world.simulate import CHANNELS, Simulation, price_lines, simulate
from ingestion.world.taste import Taste, generate_taste
from ingestion.world.text import market_trend, reviews, social_mentions, support_conversations
from ingestion.world.weather import generate_weather

FREE_SHIPPING_FROM_CENTS = 5_000
SHIPPING_FEE_CENTS = 499
TIER_THRESHOLDS_CENTS = ((250_000, "platinum"), (100_000, "gold"), (30_000, "silver"))


@dataclass(frozen=True)
class World:
    """Every generated table; money in integer cents; latent (unexported) columns included."""

    days: pd.DatetimeIndex
    catalog: Catalog
    customers: pd.DataFrame
    customer_changes: pd.DataFrame
    consent_withdrawals: pd.DataFrame
    weather: pd.DataFrame
    competitor_prices: pd.DataFrame
    orders: pd.DataFrame
    order_lines: pd.DataFrame
    payments: pd.DataFrame
    shipments: pd.DataFrame
    returns: pd.DataFrame
    campaigns: Campaigns
    clickstream: Clickstream
    reviews: pd.DataFrame
    support_conversations: pd.DataFrame
    social_mentions: pd.DataFrame
    market_trend: pd.DataFrame
    login_events: pd.DataFrame
    data_access_events: pd.DataFrame
    attacks: pd.DataFrame
    email_events: pd.DataFrame
    ad_spend: pd.DataFrame
    promo_redemptions: pd.DataFrame
    inventory: pd.DataFrame
    purchase_orders: pd.DataFrame
    taste: Taste
    simulation: Simulation = field(repr=False)

    @property
    def products(self) -> pd.DataFrame:
        return self.catalog.products

    def row_counts(self) -> dict[str, int]:
        tables = {
            "products": self.catalog.products,
            "variants": self.catalog.variants,
            "suppliers": self.catalog.suppliers,
            "price_changes": self.catalog.price_changes,
            "promotions": self.catalog.promotions,
            "customers": self.customers,
            "customer_changes": self.customer_changes,
            "weather": self.weather,
            "competitor_prices": self.competitor_prices,
            "orders": self.orders,
            "order_lines": self.order_lines,
            "payments": self.payments,
            "shipments": self.shipments,
            "returns": self.returns,
            "campaigns": self.campaigns.campaigns,
            "campaign_audiences": self.campaigns.audiences,
            "email_events": self.email_events,
            "ad_spend": self.ad_spend,
            "promo_redemptions": self.promo_redemptions,
            "reviews": self.reviews,
            "support_conversations": self.support_conversations,
            "social_mentions": self.social_mentions,
            "market_trend": self.market_trend,
            "login_events": self.login_events,
            "data_access_events": self.data_access_events,
            "inventory_snapshots": self.inventory,
            "purchase_orders": self.purchase_orders,
        }
        return {name: len(frame) for name, frame in tables.items()}


def generate_world(settings: Settings) -> World:
    """Generate the retailer for ``settings.seed`` and ``settings.scale_factor``."""
    # Arrow buffers (the text columns) from the system allocator while the world is generated: pyarrow's
    # default, mimalloc, cost 2.3-2.9 s of kernel time at SF10 on the 2-core bench machine (its freed memory
    # faulted in again, page by page), the system allocator 0.5-1.7 s, for the same user time. Each buffer
    # keeps the pool it came from, so the world's columns are freed where they were allocated.
    with _arrow_memory_pool(pa.system_memory_pool()):
        return _generate_world(settings)


@contextmanager
def _arrow_memory_pool(pool: pa.MemoryPool) -> Iterator[None]:
    """Arrow's default memory pool set to ``pool`` inside the block, the previous one restored after it."""
    before = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(before)


def _generate_world(settings: Settings) -> World:
    seed, sf = settings.seed, settings.scale_factor
    days = pd.date_range(settings.start_date, settings.end_date, freq="D")
    categories, regions = read_categories(), read_regions()
    region_codes = list(regions["region_code"])
    pools = build_pools(seed)
    catalog = generate_catalog(seed, sf, categories, pools, days)
    customers = generate_customers(seed, sf, region_codes, pools, settings.start_date, settings.end_date)
    weather = generate_weather(seed, region_codes, days)
    competitor_index, competitor_prices = generate_competitor_prices(seed, catalog.products, days)
    demand = build_demand_model(sf, catalog, weather, competitor_index, region_codes, days)
    campaigns = plan_campaigns(seed, customers.profiles, customers.consent_withdrawals, days)
    taste = generate_taste(seed, customers.profiles, catalog.products)
    sim = simulate(seed, days, catalog, customers, demand, campaigns, taste)

    orders, lines, order_of_line, customer_of_order = _orders_and_lines(sim, catalog, customers.profiles, regions, days)
    orders, redemptions = _redeem_promo_codes(seed, orders, campaigns, regions, customer_of_order)
    after = fulfil(seed, orders, lines, catalog.products, settings.end_date, order_of_line)
    changes = (
        pd.concat(
            [customers.changes, _tier_changes(after["orders"], customers.profiles, days, customer_of_order)],
            ignore_index=True,
        )
        .sort_values(["changed_at", "customer_id", "change_type"], kind="stable")
        .reset_index(drop=True)
    )
    clickstream = build_clickstream(
        seed, days, customers.profiles, catalog.products, after["orders"], lines, order_of_line, customer_of_order
    )
    logins, login_attacks = login_events(seed, customers.profiles, clickstream.customers["home_ip"].to_numpy(), days)
    access, access_attacks = data_access_events(seed, days)
    # The extracts are taken at midnight after the last day: what happens later is not in them.
    extract_at = days[-1] + pd.Timedelta(days=1)
    return World(
        days=days,
        catalog=catalog,
        customers=customers.profiles,
        customer_changes=changes,
        consent_withdrawals=customers.consent_withdrawals,
        weather=weather,
        competitor_prices=competitor_prices,
        orders=after["orders"],
        order_lines=lines,
        payments=after["payments"],
        shipments=after["shipments"],
        returns=after["returns"],
        campaigns=campaigns,
        clickstream=clickstream,
        reviews=_before_extract(
            reviews(seed, lines, after["orders"], after["returns"], catalog.products, order_of_line),
            "created_at",
            extract_at,
        ),
        support_conversations=_support_before_extract(support_conversations(seed, after["orders"]), extract_at),
        social_mentions=social_mentions(seed, sf, days, catalog.products),
        market_trend=market_trend(seed, days),
        login_events=logins,
        data_access_events=access,
        attacks=pd.concat([login_attacks, access_attacks], ignore_index=True),
        email_events=email_events(seed, campaigns, customers.profiles, days),
        ad_spend=ad_spend(seed, sf, campaigns, days),
        promo_redemptions=redemptions,
        inventory=_inventory(sim, catalog, days),
        purchase_orders=_purchase_orders(sim, catalog, days),
        taste=taste,
        simulation=sim,
    )


def _before_extract(frame: pd.DataFrame, column: str, extract_at: pd.Timestamp) -> pd.DataFrame:
    """Rows whose event happened before the extract was taken."""
    return frame[frame[column] < extract_at].reset_index(drop=True)


def _support_before_extract(conversations: pd.DataFrame, extract_at: pd.Timestamp) -> pd.DataFrame:
    """Conversations opened before the extract; one still open then has no close time yet."""
    opened = _before_extract(conversations, "opened_at", extract_at)
    return opened.assign(closed_at=opened["closed_at"].where(opened["closed_at"] < extract_at))


def _orders_and_lines(sim: Simulation, catalog: Catalog, profiles: pd.DataFrame, regions: pd.DataFrame, days):
    """The orders and their lines, each line's row in the orders (which fulfilment and reviews need: looking
    it up again by order id cost a quarter second each at SF10) and each order's customer's row in the profiles
    (which promotions, tiers and the clickstream need: the rows keep their order through them)."""
    orders = sim.orders.copy()
    # Someone who signs up today orders after signing up: halfway between sign-up and midnight.
    signed_up = profiles["signed_up_at"].to_numpy()[orders["customer"]]
    signup_second = (signed_up - signed_up.astype("datetime64[D]")).astype("timedelta64[s]").astype(np.int64)
    same_day = signed_up.astype("datetime64[D]") == days[orders["day"].to_numpy()].to_numpy().astype("datetime64[D]")
    early = same_day & (orders["second"].to_numpy() <= signup_second)
    orders.loc[early, "second"] = signup_second[early] + (86_399 - signup_second[early] + 1) // 2
    # Sorted by day, second and sequence number (unique: any sort gives this order).
    by_time = lexsort((orders["order_seq"].to_numpy(), orders["second"].to_numpy(), orders["day"].to_numpy()))
    orders = orders.take(by_time).reset_index(drop=True)
    orders["order_id"] = sequential_ids("O", len(orders), 9)
    # Lines sorted by order id, product and SKU. Ids are numbered in the orders' sorted order, so sorting by an
    # order's position sorts by its id without comparing strings.
    position = np.empty(len(orders), dtype=np.int64)
    position[orders["order_seq"].to_numpy()] = np.arange(len(orders))
    priced = price_lines(sim.order_lines, sim.orders, catalog)
    product, sku = priced["product"].to_numpy(), priced["sku"].to_numpy()
    order_pos = position[priced["order_seq"].to_numpy()]
    sort = lexsort((sku, product, order_pos))  # stable, like sort_values(kind="stable")
    order_pos, product, sku = order_pos[sort], product[sort], sku[sort]
    first = np.flatnonzero(np.r_[True, order_pos[1:] != order_pos[:-1]])
    if len(first) != len(orders):  # an order is a shopper's lines of a day: it cannot be empty
        raise ValueError(f"{len(orders) - len(first)} simulated orders have no line")
    line_number = np.arange(len(sort)) - np.repeat(first, np.diff(np.r_[first, len(sort)])) + 1
    amount = priced["line_amount_cents"].to_numpy()[sort]
    lines = pd.DataFrame(
        {
            "order_id": take_text(orders["order_id"], order_pos),
            "line_number": line_number,
            # Text columns taken from the Arrow-backed id columns: a NumPy array of millions of Python strings
            # cost more to build, and more again for pandas to turn back into Arrow text.
            "product_id": take_text(catalog.products["product_id"], product),
            "sku": take_text(catalog.variants["sku"], sku),
            "quantity": priced["quantity"].to_numpy()[sort],
            "unit_price_cents": priced["unit_price_cents"].to_numpy()[sort],
            "discount_cents": priced["discount_cents"].to_numpy()[sort],
            "line_amount_cents": amount,
            # One date object per calendar day, looked up (not one built per line).
            "order_date": days.date[priced["day"].to_numpy()[sort]],
        },
        copy=False,  # fresh columns of millions of rows: not copied again into blocks
    )
    subtotal = np.add.reduceat(amount, first) if len(first) else np.zeros(0, dtype=np.int64)  # exact int64 sums
    region = orders["region"].to_numpy()
    region_codes = regions["region_code"].astype("str").array
    customer = orders["customer"].to_numpy()
    out = pd.DataFrame(
        {
            "order_id": orders["order_id"],
            "customer_id": take_text(profiles["customer_id"], customer),
            "ordered_at": days[orders["day"].to_numpy()] + pd.to_timedelta(orders["second"].to_numpy(), "s"),
            "channel": labels(CHANNELS).take(orders["channel"].to_numpy()),
            "currency": take_text(labels(["USD"]), np.zeros(len(orders), dtype=np.int64)),
            "ship_region": take_text(region_codes, region),
            "warehouse_id": take_text(labels(pd.Series(region_codes).map(region_warehouse())), region),
            "subtotal_cents": subtotal.astype(np.int64),
            "persona": profiles["persona"].array.take(customer),
        },
        copy=False,  # fresh columns of millions of rows: not copied again into blocks
    )
    return out, lines, order_pos, customer


PROMO_REDEMPTION_RATE = 0.4


def _redeem_promo_codes(
    seed: int, orders: pd.DataFrame, campaigns: Campaigns, regions: pd.DataFrame, customer_of_order: np.ndarray
):
    """Treated audience members use the campaign's code on some of their orders during the campaign; the
    discount comes off the subtotal before tax. Adds promo code, discount, tax, shipping and total to the
    orders and returns them with the redemptions. ``customer_of_order``: each order's customer's row in the
    profiles (the rows of ``campaigns.treated``)."""
    rng = rng_for(seed, "promo_redemptions")
    orders = orders.copy()
    day = orders["ordered_at"].dt.normalize().to_numpy()
    code = pd.Series(None, index=orders.index, dtype=object)
    coded = np.zeros(len(orders), dtype=bool)  # code.notna(), kept as the codes are given
    pct = np.zeros(len(orders))
    for c in campaigns.campaigns.itertuples():
        # The campaign's treatment group (campaigns.treated, a row per campaign) at each order's customer's
        # row in the profiles: no look-up of millions of orders' text ids, once per campaign.
        eligible = (
            campaigns.treated[c.Index][customer_of_order]
            & (day >= pd.Timestamp(c.starts_on).to_datetime64())
            & (day <= pd.Timestamp(c.ends_on).to_datetime64())
            & ~coded
        )
        use = eligible & (rng.random(len(orders)) < PROMO_REDEMPTION_RATE)
        code[use] = c.promo_code
        coded |= use
        pct[use] = c.promo_discount_pct
    promo = np.floor(orders["subtotal_cents"].to_numpy() * pct + 0.5).astype(np.int64)
    taxable = orders["subtotal_cents"].to_numpy() - promo
    # Each order's region by Arrow's hash look-up (a pandas reindex on text labels cost 60 ms at SF10).
    rate = regions["sales_tax_rate"].to_numpy()[positions(orders["ship_region"], pa.array(regions["region_code"]))]
    tax = np.floor(taxable * rate + 0.5).astype(np.int64)
    shipping = np.where(taxable >= FREE_SHIPPING_FROM_CENTS, 0, SHIPPING_FEE_CENTS).astype(np.int64)
    orders = orders.assign(
        promo_code=code.to_numpy(),
        promo_discount_cents=promo,
        tax_cents=tax,
        shipping_fee_cents=shipping,
        order_total_cents=taxable + tax + shipping,
    )
    used = orders[orders["promo_code"].notna()]
    redemptions = pd.DataFrame(
        {
            "redemption_id": sequential_ids("RD", len(used), 8),
            "promo_code": used["promo_code"].to_numpy(),
            "order_id": used["order_id"].to_numpy(),
            "customer_id": used["customer_id"].to_numpy(),
            "redeemed_at": used["ordered_at"].to_numpy(),
            "discount_cents": used["promo_discount_cents"].to_numpy(),
        }
    )
    return orders, redemptions


def _tier_changes(
    orders: pd.DataFrame, profiles: pd.DataFrame, days: pd.DatetimeIndex, customer_of_order: np.ndarray
) -> pd.DataFrame:
    """Loyalty tier recomputed on the first of each month from trailing 12-month spend; changes only.
    ``customer_of_order``: each order's customer's row in ``profiles``."""
    months = pd.date_range(days[0] + pd.offsets.MonthBegin(1), days[-1], freq="MS")
    ids = profiles["customer_id"].to_numpy()
    signed_up = profiles["signed_up_at"].to_numpy()
    kept = (orders["status"] != "cancelled").to_numpy()
    paid = orders[["ordered_at", "order_total_cents"]][kept]
    customer = customer_of_order[kept]
    # Spend before each window edge, per customer: order totals bucketed by the sorted edges, then summed
    # cumulatively, so every month's trailing window is a difference of two columns.
    edges = np.unique(np.r_[months.to_numpy(), (months - pd.Timedelta(days=365)).to_numpy()])
    bucket = np.searchsorted(edges, paid["ordered_at"].to_numpy(), side="right")
    # [edge, customer]: a cumulative sum down whole rows (along each customer's row of edges it cost 3x).
    spent = np.zeros((len(edges) + 1, len(ids)), dtype=np.int64)
    np.add.at(spent, (bucket, customer), paid["order_total_cents"].to_numpy(dtype=np.int64))
    before = np.cumsum(spent, axis=0, out=spent)  # row j: spend before edges[j] (in place: 40 MB at SF10)
    thresholds = np.array([t for t, _ in reversed(TIER_THRESHOLDS_CENTS)])
    names = np.array(["none"] + [n for _, n in reversed(TIER_THRESHOLDS_CENTS)], dtype=object)
    # Tiers as their rank in ``names`` (0: none): integers compared, not Python strings, every month.
    current = pd.Index(names).get_indexer(profiles["loyalty_tier"])
    frames = []
    for month_start in months:
        end = np.searchsorted(edges, month_start.to_datetime64())
        begin = np.searchsorted(edges, (month_start - pd.Timedelta(days=365)).to_datetime64())
        spend = before[end] - before[begin]
        tier = np.searchsorted(thresholds, spend, side="right")
        changed = (tier != current) & (signed_up < month_start.to_datetime64()) & ((spend > 0) | (current != 0))
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": ids[changed],
                    "changed_at": month_start + pd.Timedelta(hours=2),
                    "change_type": "tier_changed",
                    "loyalty_tier": names[tier[changed]],
                }
            )
        )
        current[changed] = tier[changed]
    columns = ["customer_id", "changed_at", "change_type", "loyalty_tier"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def _inventory(sim: Simulation, catalog: Catalog, days: pd.DatetimeIndex) -> pd.DataFrame:
    """One row per day, warehouse and SKU. Millions of rows at SF1: identifiers are categoricals (codes into
    the warehouse and SKU lists) and the day a datetime, never per-row Python objects."""
    n_days, n_wh, n_sku = sim.stock.shape
    warehouses = pd.Categorical.from_codes(
        np.tile(np.repeat(np.arange(n_wh, dtype=np.int32), n_sku), n_days), WAREHOUSES["warehouse_id"].to_numpy()
    )
    skus = pd.Categorical.from_codes(np.tile(np.arange(n_sku, dtype=np.int32), n_days * n_wh), catalog.variants["sku"])
    return pd.DataFrame(
        {
            "snapshot_date": np.repeat(days.to_numpy().astype("datetime64[s]"), n_wh * n_sku),
            "warehouse_id": warehouses,
            "sku": skus,
            "on_hand_units": sim.stock.reshape(-1).copy(),  # its own copy: the simulation keeps the stock array
        },
        copy=False,  # the columns are fresh arrays: pandas would otherwise copy every one of millions of rows
    )


def _purchase_orders(sim: Simulation, catalog: Catalog, days: pd.DatetimeIndex) -> pd.DataFrame:
    pos = sim.purchase_orders.sort_values(["day", "warehouse", "sku"]).reset_index(drop=True)
    skus = catalog.variants["sku"].to_numpy()
    sku_product = catalog.variants["product_id"].to_numpy()
    supplier = catalog.products.set_index("product_id")["supplier_id"]
    horizon = pd.date_range(days[0], periods=len(days) + 400, freq="D")
    received = horizon[pos["arrival_day"].to_numpy()]
    return pd.DataFrame(
        {
            "po_id": sequential_ids("PO", len(pos), 8),
            "supplier_id": supplier.reindex(sku_product[pos["sku"]]).to_numpy(),
            "warehouse_id": WAREHOUSES["warehouse_id"].to_numpy()[pos["warehouse"]],
            "sku": skus[pos["sku"]],
            "ordered_on": days.date[pos["day"].to_numpy()],
            "expected_on": horizon.date[pos["expected_day"].to_numpy()],
            "received_on": pd.Series(received.date).where(received <= days[-1]).to_numpy(),
            "quantity": pos["quantity"].to_numpy(),
        }
    )
