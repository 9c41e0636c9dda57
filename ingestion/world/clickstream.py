"""Clickstream: sessions and their events (page views, searches, product views, cart adds and removes,
checkout, purchase), generated day by day so memory stays flat at any scale.

Every web and app order has exactly one session that ends in a ``purchase`` event carrying the order id at
the order's timestamp, with a view and an add-to-cart of each product it bought; marketplace orders are
placed on the marketplace and leave no session here. Sessions without a purchase come from persona browse
rates (window shoppers browse often and rarely buy), some anonymous, some abandoning a cart or a checkout.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.world.calendar import HOUR_WEIGHTS
from ingestion.world.ids import IndexedText, arrow_column, is_in, numbered_range, positions
from ingestion.world.random import rng_for

BROWSE_SESSIONS_PER_YEAR = {
    "bargain_hunter": 9.0,
    "loyal_premium": 6.0,
    "occasional_gifter": 3.0,
    "window_shopper": 14.0,
    "lapsed": 2.0,
}
ANONYMOUS_SHARE = 0.3
SEARCH_TERMS = np.array(
    [
        "dress",
        "sneakers",
        "headphones",
        "laptop",
        "coffee",
        "yoga mat",
        "board game",
        "sofa",
        "serum",
        "jacket",
        "tent",
        "novel",
        "kettle",
        "smartwatch",
        "gift ideas",
        "sale",
        "boots",
        "monitor",
        "tea",
        "lamp",
    ],
    dtype=object,
)
USER_AGENTS = np.array(
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148",
        "Mozilla/5.0 (Linux; Android 15) Chrome/131.0",
        "FutureMartApp/5.2 (iOS 18.1)",
        "FutureMartApp/5.2 (Android 15)",
    ],
    dtype=object,
)
EVENT_RANK = {
    "page_view": 0,
    "search": 1,
    "product_view": 2,
    "add_to_cart": 3,
    "remove_from_cart": 4,
    "checkout_start": 5,
    "purchase": 6,
}
EVENT_TYPES = np.array(list(EVENT_RANK), dtype=object)


def ip_addresses(seed: int, n: int, salt: str) -> np.ndarray:
    """Plausible public IPv4 addresses (first octet 23–98)."""
    return np.array(_ip_text(_ip_octets(seed, n, salt)).to_pylist(), dtype=object)


def _ip_octets(seed: int, n: int, salt: str) -> np.ndarray:
    rng = rng_for(seed, f"ip-{salt}")
    return np.column_stack(
        [rng.integers(23, 99, n), rng.integers(0, 256, n), rng.integers(0, 256, n), rng.integers(1, 255, n)]
    )


def _ip_text(octets: np.ndarray) -> pa.Array:
    # Each octet's text taken from the 256 numbers' (a cast of integers to text cost twice as much).
    parts = [OCTET_TEXT.take(octets[:, k]) for k in range(4)]
    return pc.binary_join_element_wise(*parts, ".")


OCTET_TEXT = pa.array([str(i) for i in range(256)], pa.string())


@dataclass(frozen=True)
class _People:
    """Customers and products as NumPy columns (what a day's events draw from)."""

    customer_id: IndexedText
    home_ip: pa.Array
    user_agent: np.ndarray  # index into USER_AGENTS
    active_from: np.ndarray  # first day index a customer browses: signed up by the end of that day
    active_until: np.ndarray  # first day index a customer no longer browses: lapsed by its midnight (or never)
    by_browse_rate: list[tuple[float, np.ndarray]]  # each daily browse probability and its customers (ascending)
    product_id: IndexedText
    popularity: InverseCdf  # what Generator.choice(p=popularity) searches


@dataclass(frozen=True)
class _DayOrders:
    """One day's web and app orders; ``bought[bought_start[i] : bought_start[i] + bought_count[i]]`` are the
    products of order ``i``."""

    order_id: pa.Array
    ordered_at: np.ndarray
    channel: np.ndarray
    customer_index: np.ndarray
    bought: np.ndarray  # product indices
    bought_start: np.ndarray
    bought_count: np.ndarray


@dataclass(frozen=True)
class Clickstream:
    """Everything needed to generate the events of any day on demand."""

    seed: int
    days: pd.DatetimeIndex
    customers: pd.DataFrame  # customer_id, persona, signed_up_at, lapsed_from, home_ip, user_agent, region
    products: pd.DataFrame  # product_id, popularity
    orders: pd.DataFrame  # web/app orders: order_id, customer_id, ordered_at, channel
    order_lines: pd.DataFrame  # order_id, product_id
    # Each order line's row in ``orders`` when the generator knew it (else looked up by order id).
    line_order: np.ndarray | None = field(default=None, repr=False)

    def events_by_day(self) -> Iterator[tuple[pd.Timestamp, pa.Table]]:
        # Plain NumPy columns, computed once: per-day pandas look-ups on Arrow-backed strings cost more than
        # generating the events.
        cust = self.customers
        # Who is active on day t, as two day indexes per customer found once (signed up by the next midnight,
        # not lapsed by this one: a lapse time of NaT sorts last, never): comparing every customer's
        # timestamps with each day's cost more than the day's draws.
        midnights = self.days.to_numpy().astype("datetime64[ns]")
        signed_up = cust["signed_up_at"].to_numpy(dtype="datetime64[ns]")
        lapsed = cust["lapsed_from"].to_numpy(dtype="datetime64[ns]")
        popularity = self.products["popularity"].to_numpy(dtype=float)
        browse_rate = cust["persona"].map(BROWSE_SESSIONS_PER_YEAR).to_numpy(dtype=float) / 365.0
        cdf = popularity.cumsum()
        cdf /= cdf[-1]
        people = _People(
            customer_id=IndexedText(arrow_column(cust["customer_id"])),
            home_ip=arrow_column(cust["home_ip"]).cast(pa.string()),
            user_agent=pd.Index(USER_AGENTS).get_indexer(cust["user_agent"]),
            active_from=np.searchsorted(midnights + np.timedelta64(1, "D"), signed_up, side="left"),
            active_until=np.searchsorted(midnights, lapsed, side="left"),
            by_browse_rate=[(rate, np.flatnonzero(browse_rate == rate)) for rate in np.unique(browse_rate)],
            product_id=IndexedText(arrow_column(self.products["product_id"])),
            popularity=InverseCdf(cdf),
        )
        ordered_at = self.orders["ordered_at"].to_numpy(dtype="datetime64[ns]")
        by_day = np.argsort(ordered_at.astype("datetime64[D]"), kind="stable")  # order of rows kept within a day
        order_day = ordered_at.astype("datetime64[D]")[by_day]
        # Text straight from the Arrow-backed columns (a detour through NumPy made a Python string per order).
        columns = {
            "order_id": arrow_column(self.orders["order_id"]).cast(pa.string()).take(by_day),
            "ordered_at": ordered_at[by_day],
            "channel": arrow_column(self.orders["channel"]).cast(pa.string()).take(by_day),
            "customer_index": self.orders["customer_index"].to_numpy(dtype=np.int64)[by_day],
        }
        # Each order's bought products (its lines in their order): a flat array with start and count per order.
        if self.line_order is None:
            line_order = positions(self.order_lines["order_id"], columns["order_id"])
        else:  # the rows carried from generation, renumbered in the day-sorted order
            day_sorted_row = np.empty(len(by_day), dtype=np.int64)
            day_sorted_row[by_day] = np.arange(len(by_day))
            line_order = day_sorted_row[self.line_order]
        line_sort = np.argsort(line_order, kind="stable")
        products = positions(self.order_lines["product_id"], people.product_id.values)[line_sort]
        counts = np.bincount(line_order, minlength=len(by_day))
        starts = np.cumsum(counts) - counts
        day_keys = self.days.to_numpy().astype("datetime64[D]")
        lo, hi = np.searchsorted(order_day, day_keys, "left"), np.searchsorted(order_day, day_keys, "right")
        for t, day in enumerate(self.days):
            todays = _DayOrders(
                **{name: values[lo[t] : hi[t]] for name, values in columns.items()},
                bought=products,
                bought_start=starts[lo[t] : hi[t]],
                bought_count=counts[lo[t] : hi[t]],
            )
            yield day, self._events_for_day(t, day, todays, people)

    def _events_for_day(self, t: int, day: pd.Timestamp, orders: _DayOrders, cust: _People) -> pa.Table:
        rng = rng_for(self.seed, f"clickstream-{day.date()}")
        # Browse sessions: active customers by persona rate, plus anonymous visitors. Each customer of a rate
        # browses with that probability (the successes of a Bernoulli trial per customer, found by geometric
        # skips: a few thousand draws, not one per customer); those not active that day are then left out.
        drawn = [members[_successes(rng, len(members), rate)] for rate, members in cust.by_browse_rate]
        browsing = np.sort(np.concatenate(drawn))
        browsing = browsing[(cust.active_from[browsing] <= t) & (t < cust.active_until[browsing])]
        n_anon = rng.poisson(len(browsing) * ANONYMOUS_SHARE / (1 - ANONYMOUS_SHARE))
        n_browse = len(browsing) + n_anon
        n_buy = len(orders.order_id)
        n = n_buy + n_browse
        if not n:
            return _empty()
        prefix = day.strftime("%Y%m%d")
        cust_idx = np.concatenate([orders.customer_index, browsing, np.full(n_anon, -1)])
        known = cust_idx >= 0
        # Session attributes as indices into Arrow columns (one take per event column, no Python objects):
        # a known visitor's home address, an anonymous one's own address after the customers' addresses.
        n_customers = len(cust.active_from)
        ip_index = np.where(known, cust_idx, n_customers + np.cumsum(~known) - 1)
        anon_ips = _ip_text(_ip_octets(self.seed, n - int(known.sum()), f"anon-{prefix}"))
        agent = np.where(known, cust.user_agent[np.maximum(cust_idx, 0)], rng.integers(0, len(USER_AGENTS), n))
        browse_app = rng.random(n_browse) < 0.55
        channel = pa.concat_arrays([orders.channel, BROWSE_CHANNEL_TEXT.take(browse_app.astype(np.int8))])
        is_buy = np.arange(n) < n_buy

        # Events per session: a landing page view, searches, product views, cart activity, checkout.
        n_search = rng.poisson(np.where(is_buy, 0.6, 0.4))
        n_views = rng.poisson(np.where(is_buy, 1.0, 1.8)) + (~is_buy)
        n_bought = np.concatenate([orders.bought_count, np.zeros(n_browse, dtype=np.int64)])
        n_cart_browse = np.where(~is_buy & (rng.random(n) < 0.18), 1 + rng.poisson(0.4, n), 0)
        n_remove = np.where(n_cart_browse > 0, rng.binomial(n_cart_browse, 0.3), 0)
        checkout_abandoned = (n_cart_browse > 0) & (rng.random(n) < 0.25)
        counts = {
            "page_view": np.ones(n, dtype=np.int64),
            "search": n_search,
            "product_view": n_views + n_bought,
            "add_to_cart": n_bought + n_cart_browse,
            "remove_from_cart": n_remove,
            "checkout_start": (is_buy | checkout_abandoned).astype(np.int64),
            "purchase": is_buy.astype(np.int64),
        }
        per_session = sum(counts.values())
        session_of = np.repeat(np.arange(n), per_session)
        # Events of a session in funnel order: each session's count of each type (a row of types in rank
        # order), the types repeated by those counts row after row.
        per_type = np.stack([counts[k] for k in EVENT_RANK], axis=1)  # [session, event type]
        etype = np.repeat(np.tile(np.arange(len(EVENT_RANK)), n), per_type.reshape(-1))
        m = len(etype)

        # Products: bought items first among views and adds of buying sessions, then popular products.
        # (The draw is what Generator.choice(p=popularity) does, without re-checking p every day.)
        is_view = etype == EVENT_RANK["product_view"]
        is_add = etype == EVENT_RANK["add_to_cart"]
        is_remove = etype == EVENT_RANK["remove_from_cart"]
        product = np.full(m, -1, dtype=np.int64)
        with_product = is_view | is_add | is_remove
        product[with_product] = cust.popularity.index(rng.random(int(with_product.sum())))
        view_pos = np.flatnonzero(is_view)
        add_pos = np.flatnonzero(is_add)
        view_start = np.searchsorted(session_of[view_pos], np.arange(n_buy))
        add_start = np.searchsorted(session_of[add_pos], np.arange(n_buy))
        k = orders.bought_count
        session = np.repeat(np.arange(n_buy), k)
        nth = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)  # j-th bought item of its session
        items = orders.bought[np.repeat(orders.bought_start, k) + nth]
        product[view_pos[view_start[session] + nth]] = items
        product[add_pos[add_start[session] + nth]] = items

        is_search = etype == EVENT_RANK["search"]
        search = np.zeros(m, dtype=np.int64)
        search[is_search] = rng.integers(0, len(SEARCH_TERMS), int(is_search.sum()))
        is_purchase = etype == EVENT_RANK["purchase"]

        # Time: gaps of 10 s to a few minutes; buying sessions end with the purchase at the order's time. A
        # gap is Gamma(1.5, 30 s), drawn as 30 s x (Exp(1) + Z^2 / 2) (Gamma(1) + Gamma(1/2)): the same law,
        # faster than NumPy's gamma.
        gaps = np.round(30.0 * (rng.standard_exponential(m) + 0.5 * rng.standard_normal(m) ** 2)).astype(np.int64) + 2
        gaps[np.r_[0, np.cumsum(per_session)[:-1]]] = 0
        offset = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[np.r_[0, np.cumsum(per_session)[:-1]]], per_session)
        duration = np.bincount(session_of, weights=gaps, minlength=n).astype(np.int64)
        hour = np.searchsorted(HOUR_CDF, rng.random(n), side="right")  # Generator.choice(24, p=HOUR_WEIGHTS)
        start = day.to_datetime64() + (hour * 3600 + rng.integers(0, 3600, n)).astype("timedelta64[s]")
        start[:n_buy] = orders.ordered_at - duration[:n_buy].astype("timedelta64[s]")
        # A session lands in its day's file: one that would have begun before midnight (an order just after
        # it) has its gaps squeezed into the time since midnight, so no event precedes its day (nor the world).
        midnight = day.to_datetime64().astype("datetime64[s]")
        early = np.flatnonzero(start[:n_buy] < midnight)
        if len(early):
            since = (orders.ordered_at[early] - midnight).astype("timedelta64[s]").astype(np.int64)
            squeeze = np.isin(session_of, early)
            owner = session_of[squeeze]
            lookup = np.zeros(n, dtype=np.int64)
            lookup[early] = since
            offset[squeeze] = offset[squeeze] * lookup[owner] // np.maximum(duration[owner], 1)
            start[early] = midnight
        event_at = start[session_of] + offset.astype("timedelta64[s]")
        return pa.table(
            {
                "event_id": numbered_range(f"E{prefix}-", m, 8),
                # Each session's id written once and spread to its events (the same text a row).
                "session_id": IndexedText(numbered_range(f"S{prefix}-", n, 7)).take(session_of),
                "customer_id": cust.customer_id.take(cust_idx[session_of], null=~known[session_of]),
                "event_type": EVENT_TYPE_TEXT.take(etype),
                "event_at": pa.array(event_at.astype("datetime64[s]"), pa.timestamp("s")),
                "channel": IndexedText(channel).take(session_of),
                "product_id": cust.product_id.take(product, null=product < 0),
                "search_query": SEARCH_TEXT.take(search, null=~is_search),
                "order_id": IndexedText(orders.order_id).take(session_of, null=~is_purchase),
                "ip_address": _ip_column(cust.home_ip, anon_ips, ip_index, n_customers).take(session_of),
                "user_agent": USER_AGENT_TEXT.take(agent[session_of]),
            },
            schema=EVENT_SCHEMA,
        )


EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("session_id", pa.string()),
        ("customer_id", pa.string()),
        ("event_type", pa.string()),
        ("event_at", pa.timestamp("s")),
        ("channel", pa.string()),
        ("product_id", pa.string()),
        ("search_query", pa.string()),
        ("order_id", pa.string()),
        ("ip_address", pa.string()),
        ("user_agent", pa.string()),
    ]
)
EVENT_TYPE_TEXT = pa.array(list(EVENT_RANK), pa.string())


HOUR_CDF = np.cumsum(HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
HOUR_CDF /= HOUR_CDF[-1]
SEARCH_TEXT = IndexedText(pa.array(SEARCH_TERMS, pa.string()))
BROWSE_CHANNEL_TEXT = pa.array(["web", "app"], pa.string())  # index: browses in the app
USER_AGENT_TEXT = pa.array(USER_AGENTS, pa.string())


class InverseCdf:
    """``np.searchsorted(cdf, u, side="right")`` (the number of ``cdf`` entries <= each ``u`` in [0, 1)) through
    a guide table: a binary search over thousands of products per draw, with its mispredicted branches, cost
    more than the rest of a day's product choice. The guide gives, for each of ``buckets`` equal slices of
    [0, 1), a start at or below the answer; a step or two forward ends on exactly the same index."""

    def __init__(self, cdf: np.ndarray, buckets: int = 16_384) -> None:
        self.cdf, self.buckets = cdf, buckets  # a power of two: (b - 1) / buckets is exact
        # guide[b] counts the entries <= (b - 1) / buckets: u * buckets rounds to b at most, so (b - 1) / buckets
        # is below u and the start never passes the answer.
        self.guide = np.searchsorted(cdf, (np.arange(buckets + 1) - 1) / buckets, side="right")

    def index(self, u: np.ndarray) -> np.ndarray:
        idx = self.guide[(u * self.buckets).astype(np.int64)]
        last = len(self.cdf) - 1
        while True:
            step = (self.cdf.take(np.minimum(idx, last)) <= u) & (idx <= last)
            if not step.any():
                return idx
            idx += step


def _successes(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """The indexes of the successes among ``n`` independent trials of probability ``p`` (ascending): the gaps
    between successes are geometric, so this draws about n x p numbers, not n."""
    if not n or p <= 0:
        return np.zeros(0, dtype=np.int64)
    batch = int(n * p + 6 * np.sqrt(n * p) + 16)
    position = np.cumsum(rng.geometric(p, batch)) - 1
    while position[-1] < n:  # (rarely) not past the last trial yet: more gaps
        position = np.r_[position, position[-1] + np.cumsum(rng.geometric(p, batch))]
    return position[: np.searchsorted(position, n)]


def _ip_column(home_ip: pa.Array, anon_ips: pa.Array, index: np.ndarray, n_customers: int) -> pa.Array:
    """Each event's address: ``index`` points into the customers' home addresses followed by the day's
    anonymous ones. Taken from each side and merged, rather than concatenating every customer's address
    into one array each day (most of them unused that day)."""
    anonymous = index >= n_customers
    if not anonymous.any():
        return home_ip.take(index)
    home = home_ip.take(np.where(anonymous, 0, index))
    return pc.if_else(anonymous, anon_ips.take(np.where(anonymous, index - n_customers, 0)), home)


def _empty() -> pa.Table:
    return EVENT_SCHEMA.empty_table()


def build_clickstream(
    seed: int,
    days: pd.DatetimeIndex,
    profiles: pd.DataFrame,
    products: pd.DataFrame,
    orders: pd.DataFrame,
    lines: pd.DataFrame,
    order_of_line: np.ndarray | None = None,
    customer_of_order: np.ndarray | None = None,
) -> Clickstream:
    """The clickstream's inputs; ``order_of_line`` is each line's row in ``orders`` and ``customer_of_order``
    each order's customer's row in ``profiles``, when the caller knows them (else the text ids are looked up)."""
    rng = rng_for(seed, "devices")
    customers = profiles[["customer_id", "persona", "signed_up_at", "lapsed_from"]].assign(
        home_ip=ip_addresses(seed, len(profiles), "home"),
        user_agent=USER_AGENTS[rng.integers(0, len(USER_AGENTS), len(profiles))],
    )
    # Columns first, then rows: filtering every column of millions of orders (and lines) cost more.
    is_online = (orders["channel"] != "marketplace").to_numpy()
    online = orders[["order_id", "customer_id", "ordered_at", "channel"]][is_online]
    # Each order's customer by Arrow's hash look-up (a pandas reindex on text ids cost a quarter second at SF10).
    if customer_of_order is None:
        customer_index = positions(online["customer_id"], pa.array(profiles["customer_id"], pa.string()))
    else:
        customer_index = customer_of_order[is_online]
    online = online.assign(customer_index=customer_index)
    if order_of_line is None:
        online_line, line_order = is_in(lines["order_id"], online["order_id"]), None
    else:
        online_line = is_online[order_of_line]
        line_order = (np.cumsum(is_online) - 1)[order_of_line[online_line]]  # row among the online orders
    return Clickstream(
        seed=seed,
        days=days,
        customers=customers,
        products=products[["product_id", "popularity"]].assign(
            popularity=products["popularity"] / products["popularity"].sum()
        ),
        orders=online.reset_index(drop=True),
        order_lines=lines[["order_id", "product_id"]][online_line],
        line_order=line_order,
    )
