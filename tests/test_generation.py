from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from futuremart.settings import Settings
from ingestion.landing import cents_to_text, land_world
from ingestion.truth import write_truth
from ingestion.world import generate_world
from ingestion.world.clickstream import InverseCdf, _successes
from ingestion.world.ids import IndexedText, numbered, numbered_range, sequential_ids, take_text, with_prefix
from ingestion.world.simulate import _draw_visitors
from ingestion.world.taste import EVERYDAY_FIRST, TASTE_SHARE, Taste, TasteRouter
from tests.conftest import TEST_SCALE, tree_digest


def _generate(home: Path, seed: int) -> dict[str, str]:
    settings = Settings(home=home, seed=seed, scale_factor=TEST_SCALE)
    world = generate_world(settings)
    land_world(world, settings)
    write_truth(world, settings)
    return tree_digest(home)


@pytest.fixture(scope="module")
def world():
    return generate_world(Settings(seed=3, scale_factor=TEST_SCALE))


def test_same_seed_and_scale_give_byte_identical_extracts_and_truth(tmp_path: Path):
    first, second = _generate(tmp_path / "a", 11), _generate(tmp_path / "b", 11)
    assert len(first) > 100
    assert first == second


def test_another_seed_gives_different_extracts(tmp_path: Path):
    first, other = _generate(tmp_path / "a", 11), _generate(tmp_path / "b", 12)
    changed = [path for path in first if first[path] != other.get(path)]
    assert "landing/pim/catalog/dt=2024-01-01/catalog.json" in changed
    assert len(changed) > 0.9 * len(first)


def test_scale_factor_multiplies_customers_and_orders():
    small = generate_world(Settings(seed=1, scale_factor=0.01))
    double = generate_world(Settings(seed=1, scale_factor=0.02))
    assert len(double.customers) == 2 * len(small.customers)
    assert 1.6 < len(double.orders) / len(small.orders) < 2.4
    assert len(small.products) == len(double.products) == 240  # the catalog's floor below SF 0.12


def test_order_amounts_are_consistent(world):
    lines = world.order_lines.groupby("order_id")["line_amount_cents"].sum()
    orders = world.orders.set_index("order_id")
    assert (lines.reindex(orders.index) == orders["subtotal_cents"]).all()
    total = (
        orders["subtotal_cents"] - orders["promo_discount_cents"] + orders["tax_cents"] + orders["shipping_fee_cents"]
    )
    assert (total == orders["order_total_cents"]).all()
    assert (world.order_lines["line_amount_cents"] >= 0).all()


def test_customers_order_only_after_signing_up_and_inside_the_period(world):
    signup = world.customers.set_index("customer_id")["signed_up_at"]
    ordered = world.orders.set_index("customer_id")["ordered_at"]
    assert (ordered.to_numpy() >= signup.reindex(ordered.index).to_numpy()).all()
    assert ordered.min() >= pd.Timestamp("2024-01-01") and ordered.max() < pd.Timestamp("2025-01-01")


def test_orders_follow_the_calendar_weekends_and_black_friday_sell_more(world):
    daily = world.orders.groupby(world.orders["ordered_at"].dt.date).size()
    daily.index = pd.to_datetime(daily.index)
    weekend = daily[daily.index.weekday >= 5].mean()
    midweek = daily[daily.index.weekday.isin([1, 2])].mean()
    assert weekend > midweek
    black_friday_week = daily["2024-11-28":"2024-12-02"].mean()
    assert black_friday_week > 1.5 * daily["2024-10-01":"2024-10-31"].mean()


def test_emails_are_unique_and_identity_pools_do_not_repeat_whole_people(world):
    assert world.customers["email"].is_unique
    assert world.customers["customer_id"].is_unique


def test_cents_to_text_is_exact():
    assert list(cents_to_text(np.array([0, 5, 1999, 100000, -250]))) == ["0.00", "0.05", "19.99", "1000.00", "-2.50"]


def test_stock_snapshots_balance_receipts_and_every_sale_of_the_day(world):
    """On hand today = yesterday + received today - sold today, for every warehouse, SKU and day pair
    (campaign extra orders included), and the stockout truth is the snapshots' zero days."""
    sim = world.simulation
    stock = sim.stock.astype(np.int64)
    n_days, n_wh, n_sku = stock.shape
    flow = np.zeros_like(stock)
    pos = sim.purchase_orders[sim.purchase_orders["arrival_day"] < n_days]
    np.add.at(flow, (pos["arrival_day"], pos["warehouse"], pos["sku"]), pos["quantity"])
    lines = sim.order_lines
    np.subtract.at(flow, (lines["day"], lines["warehouse"], lines["sku"]), lines["quantity"])
    assert (stock[1:] - stock[:-1] == flow[1:]).all()
    assert (stock >= 0).all() and (stock == 0).any()


def test_picking_starts_after_payment_authorization(world):
    paid = world.payments.set_index("order_id")["authorized_at"]
    picked = world.shipments.set_index("order_id")["picked_at"].dropna()
    assert len(picked) and (picked > paid.reindex(picked.index)).all()


def test_no_event_after_the_extract_and_no_partition_after_the_last_day(tmp_path: Path):
    settings = Settings(home=tmp_path, seed=5, scale_factor=TEST_SCALE)
    world = generate_world(settings)
    land_world(world, settings)
    extract_at = pd.Timestamp(settings.end_date) + pd.Timedelta(days=1)
    for frame, column in [
        (world.payments, "authorized_at"),
        (world.reviews, "created_at"),
        (world.support_conversations, "opened_at"),
        (world.support_conversations, "closed_at"),
        (world.shipments, "delivered_at"),
        (world.returns, "received_at"),
    ]:
        assert (frame[column].dropna() < extract_at).all(), column
    partitions = {p.name for p in settings.landing_dir.glob("*/*/dt=*")}
    assert max(partitions) == f"dt={settings.end_date.isoformat()}"
    # An order still unpaid at the extract has no payment row and stays "placed".
    unpaid = world.orders[~world.orders["order_id"].isin(world.payments["order_id"])]
    assert set(unpaid["status"]) <= {"placed", "cancelled"}


def test_numbered_ids_are_the_text_an_f_string_gives():
    rng = np.random.default_rng(0)
    for width in (1, 3, 4, 5, 7, 8, 9, 12):
        numbers = np.r_[0, 10**width - 1, rng.integers(0, 10**width, 2_000)]
        expected = [f"E20240101-{n:0{width}d}" for n in numbers]
        assert numbered("E20240101-", numbers, width).to_pylist() == expected
    ids = sequential_ids("O", 12_345, 9)
    assert list(ids[[0, 9_999, 12_344]]) == ["O000000001", "O000010000", "O000012345"]
    assert ids.dtype == pd.Series(["O000000001"]).dtype  # what a list of Python strings becomes


def test_numbered_range_is_numbered_of_an_arange():
    for n in (0, 1, 9_999, 10_000, 10_001, 123_457):
        for width in (3, 4, 7, 8, 9):
            if n <= 10**width:
                expected = numbered("S20240101-", np.arange(n), width)
                assert numbered_range("S20240101-", n, width).equals(expected)
    assert numbered_range("", 12, 3).to_pylist() == [f"{i:03d}" for i in range(12)]


def test_indexed_text_takes_what_arrow_takes_buffers_included():
    rng = np.random.default_rng(2)
    ids = numbered("C", np.arange(1_000), 7)
    mixed = pa.array(["dress", "yoga mat", "", "tea", "gift ideas"] * 200)
    large = (ids.cast(pa.large_string()), mixed.cast(pa.large_string()).slice(7, 300))  # pandas' text columns
    for values in (ids, ids.slice(10, 500), mixed, mixed.slice(3, 400), *large):
        text = IndexedText(values)
        for null_share in (0.0, 0.3, 1.0):
            for n in (0, 1, 3_000):
                indices, null = rng.integers(0, len(values), n), rng.random(n) < null_share
                expected = values.take(pa.array(np.where(null, 0, indices), mask=null))
                taken = text.take(indices, null=null)
                taken.validate(full=True)
                assert taken.equals(expected) and taken.null_count == expected.null_count
                # The same offsets and text bytes as Arrow's (an absent buffer read as empty).
                assert [b.to_pybytes() if b else b"" for b in taken.buffers()[1:]] == [
                    b.to_pybytes() if b else b"" for b in expected.buffers()[1:]
                ]
                assert text.take(indices).equals(values.take(indices))
    column = pd.Series(sequential_ids("C", 1_000, 7))
    indices = rng.integers(0, 1_000, 5_000)
    assert take_text(column, indices).equals(column.array.take(indices))
    assert pd.Series(with_prefix("SHP", column, 1)).equals("SHP" + column.str[1:])
    assert list(with_prefix("X", pd.Series(["Oab", "Ocdef"]), 1)) == ["Xab", "Xcdef"]  # not of one width


def test_inverse_cdf_guide_table_picks_what_a_binary_search_picks():
    rng = np.random.default_rng(1)
    for _ in range(50):
        weights = rng.lognormal(0, 2, int(rng.integers(1, 3_000)))
        weights[rng.random(len(weights)) < 0.1] = 0  # zero-weight items: equal cumulative entries
        weights[-1] += 1e-9
        cdf = weights.cumsum() / weights.sum()
        cdf[-1] = 1.0
        # Uniform draws, plus draws exactly on and just below every cumulative step.
        u = np.r_[0.0, np.nextafter(1.0, 0), rng.random(5_000), cdf[:-1], np.nextafter(cdf[:-1], 0)]
        assert (InverseCdf(cdf).index(u) == np.searchsorted(cdf, u, side="right")).all()


def test_taste_router_draws_an_active_holder_of_the_line_in_proportion_to_weight():
    # Two groups; brands 0..2 over three products; customer c holds brand c % 3 (and 2 - c % 3) and product c % 3.
    n = 60
    group = np.repeat([0, 1], n // 2)
    taste = Taste(
        brands=np.array(["a", "b", "c"], dtype=object),
        brand_of_product=np.array([0, 1, 2]),
        favourite_brands=np.column_stack([np.arange(n) % 3, 2 - np.arange(n) % 3 + (np.arange(n) % 3 == 1)]) % 3,
        favourite_products=np.column_stack([np.arange(n) % 3, (np.arange(n) + 1) % 3, (np.arange(n) + 2) % 3]),
    )
    weight = np.random.default_rng(3).lognormal(0, 1, n)
    active_from, active_until = np.zeros(n, dtype=np.int64), np.full(n, 10)
    active_until[::4] = 5  # every fourth customer stops shopping on day 5
    router = TasteRouter(taste, group, 3, [weight], active_from, active_until)
    rng = np.random.default_rng(4)
    lines = 200_000
    line_group, line_product = np.ones(lines, dtype=np.int64), np.zeros(lines, dtype=np.int64)
    for day in (0, 7):
        out = router.route(rng, day, line_group, line_product, level=0)
        routed = out[out >= 0]
        assert abs(len(routed) / lines - TASTE_SHARE) < 0.01
        active = (active_from <= day) & (day < active_until)
        holds = (taste.favourite_brands == 0).any(axis=1) | (taste.favourite_products == 0).any(axis=1)
        assert (group[routed] == 1).all() and active[routed].all() and holds[routed].all()
        # EVERYDAY_FIRST of the routed lines to the product's holders, the rest to the brand's, each in
        # proportion to weight among the active holders of the line's group.
        expected = np.zeros(n)
        for share, holds_it in (
            (EVERYDAY_FIRST, (taste.favourite_products == 0).any(axis=1)),
            (1 - EVERYDAY_FIRST, (taste.favourite_brands == 0).any(axis=1)),
        ):
            w = np.where((group == 1) & active & holds_it, weight, 0.0)
            expected += share * w / w.sum()
        got = np.bincount(routed, minlength=n) / len(routed)
        assert (got[expected == 0] == 0).all()
        some = expected > 0
        # Every holder's share within 5 standard errors (a wrong law misses by far more at this many lines).
        assert (np.abs(got[some] - expected[some]) * np.sqrt(len(routed) / expected[some])).max() < 5
    # A line whose brand and product nobody active holds stays with the visitors.
    nobody = TasteRouter(taste, group, 3, [weight], active_from, np.zeros(n, dtype=np.int64))
    assert (nobody.route(rng, 0, line_group[:1000], line_product[:1000], level=0) == -1).all()


def test_visitors_are_a_weighted_draw_without_replacement_like_the_exponential_race():
    rng = np.random.default_rng(5)
    sizes = np.array([0, 40, 7, 25])  # customers active in each group (the second draws past RACE_SHARE)
    visits = np.array([0, 5, 3, 20])
    weight = rng.lognormal(0, 1, sizes.sum())
    act = np.arange(sizes.sum())
    reps = 20_000
    counts = np.zeros(len(act))
    for _ in range(reps):
        drawn = _draw_visitors(rng, act, weight, sizes, visits)
        assert len(np.unique(drawn)) == len(drawn) == visits.sum()
        assert (np.bincount(np.searchsorted(np.cumsum(sizes), drawn, side="right"), minlength=4) == visits).all()
        counts[drawn] += 1
    # The same inclusion frequencies as the exponential race (Efraimidis-Spirakis), group by group.
    race = np.zeros(len(act))
    starts = np.cumsum(sizes) - sizes
    for _ in range(reps):
        for s, n, k in zip(starts, sizes, visits, strict=True):
            if k:
                keys = rng.standard_exponential(n) / weight[s : s + n]
                race[s + np.argpartition(keys, k - 1)[:k]] += 1
    # Each customer's inclusion count within 5 standard errors of the race's (binomial counts of ``reps``).
    p = (counts + race) / (2 * reps)
    assert (np.abs(counts - race) / np.sqrt(2 * reps * p * (1 - p) + 1e-9)).max() < 5


def test_browse_successes_are_independent_trials_of_the_rate():
    rng = np.random.default_rng(6)
    n, p, reps = 2_000, 0.03, 4_000
    hits = np.zeros(n)
    sizes = []
    for _ in range(reps):
        drawn = _successes(rng, n, p)
        assert (np.diff(drawn) > 0).all() and (drawn.min(initial=0) >= 0) and (drawn.max(initial=0) < n)
        hits[drawn] += 1
        sizes.append(len(drawn))
    # Every trial succeeds with probability p (binomial counts over the repetitions), and the number of
    # successes is Binomial(n, p): its mean and variance.
    assert (np.abs(hits - reps * p) / np.sqrt(reps * p * (1 - p))).max() < 5
    assert abs(np.mean(sizes) - n * p) < 5 * np.sqrt(n * p * (1 - p) / reps)
    assert abs(np.var(sizes) / (n * p * (1 - p)) - 1) < 0.1
    assert len(_successes(rng, 0, p)) == 0 and len(_successes(rng, 5, 1e-9)) == 0
