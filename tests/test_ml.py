"""The ml assets on the session warehouse (scale 0.02): predictions, registry and checks; the same metrics
for deliberately broken models fail the bars; the estimates are graded against the planted truth.

The small world's bars are looser (``Settings.ml_bars`` picks ``small`` below scale 0.5); every test of a
broken model asserts that its metric misses the bar the real model met.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from futuremart.publish import ANALYST_COPY
from ml.checks import elasticity_passes, forecast_passes, segmentation_passes
from ml.demand_forecast import backtest
from ml.features import customer_behaviour, product_day_panel
from ml.pricing import elasticity_metrics, estimate_price_elasticity
from ml.registry import load_model
from ml.segmentation import train_customer_segmentation

ML_TABLES = (
    "demand_forecast",
    "demand_backtest",
    "price_elasticity",
    "price_recommendations",
    "price_impact_by_category",
    "customer_segments",
    "segment_profiles",
    "customer_recommendations",
    "model_registry",
)


@pytest.fixture(scope="module")
def inputs(built):
    with built.connect() as con:
        return product_day_panel(con), customer_behaviour(con)


def registered(built) -> dict[str, dict]:
    with built.connect() as con:
        rows = con.execute("select model_name, metrics, artifact_path, version from ml.model_registry").fetchall()
    return {name: {"metrics": json.loads(m), "artifact": Path(a), "version": v} for name, m, a, v in rows}


def test_the_job_trains_registers_and_publishes_every_model(built):
    evaluations = {e.check_name: e.passed for e in built.result.get_asset_check_evaluations()}
    assert {
        evaluations[name]
        for name in (
            "demand_forecast_beats_baseline",
            "price_elasticity_is_precise",
            "customer_segments_are_separated",
        )
    } == {True}
    models = registered(built)
    # product_recommendations is registered by the personalization group (tests/test_personalization.py).
    assert set(models) == {"demand_forecast", "price_elasticity", "customer_segmentation", "product_recommendations"}
    for name, model in models.items():
        metadata = json.loads((model["artifact"].parent / "metadata.json").read_text())
        assert metadata["version"] == model["version"] and metadata["features"] and metadata["data_version"]
        assert model["artifact"].parent.parent.name == name and load_model(model["artifact"]) is not None
    with built.connect() as con:
        products = con.execute("select count(*) from marts.dim_product").fetchone()[0]
        customers = con.execute("select count(*) from marts.fct_customer_lifetime").fetchone()[0]
        forecast = con.execute(
            "select count(*), count(distinct product_id), min(horizon_day), max(horizon_day), min(predicted_units) "
            "from ml.demand_forecast"
        ).fetchone()
        assert forecast == (products * 28, products, 1, 28, pytest.approx(forecast[4])) and forecast[4] >= 0
        assert con.execute("select count(*) from ml.customer_segments").fetchone()[0] == customers
        names = [r[0] for r in con.execute("select segment_name from ml.segment_profiles").fetchall()]
        assert len(names) == len(set(names)) == 5
    # Analysts query the ml schema in the published copy.
    with duckdb.connect(str(built.settings.published_dir / ANALYST_COPY), read_only=True) as con:
        published = {
            r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'ml'").fetchall()
        }
    assert set(ML_TABLES) <= published  # other groups (marketing, customer insights) write to ml too


def test_recommended_prices_stay_within_the_guard_rails(built):
    s = built.settings
    with built.connect() as con:
        recs = con.execute("select * from ml.price_recommendations").df()
        impact = con.execute("select * from ml.price_impact_by_category").df()
    assert len(recs) == recs["product_id"].nunique() > 0
    change = recs["recommended_price"] / recs["current_price"] - 1
    floor = recs["unit_cost"] * (1 + s.ml_min_margin)
    cap = recs["competitor_price"] * (1 + s.ml_competitor_cap)
    assert (recs["recommended_price"] >= floor - 1e-9).all()
    # The move limit holds wherever the cost floor does not force a larger rise.
    movable = floor <= recs["current_price"] * (1 + s.ml_max_price_change)
    assert (change[movable].abs() <= s.ml_max_price_change + 1e-9).all()
    # The competitor cap holds wherever it does not contradict the cost floor.
    assert (recs.loc[floor <= cap, "recommended_price"] <= cap[floor <= cap] + 0.01).all()
    # Maximizing margin never lowers the expected margin below the current one (the current price is a candidate
    # whenever it lies inside the rails).
    inside = (recs["current_price"] >= recs["min_price"]) & (recs["current_price"] <= recs["max_price"])
    assert (recs.loc[inside, "expected_margin"] >= recs.loc[inside, "current_margin"] - 0.01).all()
    assert set(impact["category_id"]) == set(recs["category_id"])


def test_a_forecaster_trained_on_the_wrong_target_fails_the_bar(built, inputs):
    panel, _ = inputs
    bars = built.settings.ml_bars
    good = registered(built)["demand_forecast"]["metrics"]
    # Wrong target: the units of a random other product-day (the same distribution, no relation to features).
    wrong = panel.assign(units=np.random.default_rng(0).permutation(panel["units"].to_numpy()))
    broken, _ = backtest(wrong)
    print(f"forecast WAPE gain: model {good['wape_gain']:.3f}, wrong target {broken['wape_gain']:.3f}, bar {bars}")
    assert forecast_passes(good, bars) and not forecast_passes(broken, bars)


def test_elasticities_from_shuffled_prices_fail_the_bar_and_real_ones_approach_the_truth(built, inputs):
    panel, _ = inputs
    bars = built.settings.ml_bars
    rng = np.random.default_rng(0)
    shuffled = panel.assign(
        effective_price=panel.groupby("category_id")["effective_price"].transform(lambda s: rng.permutation(s.values))
    )
    good, broken = estimate_price_elasticity(panel), estimate_price_elasticity(shuffled)
    planted = pd.read_csv(built.settings.truth_dir / "category_params.csv").set_index("category_id")["elasticity"]
    error = (good.set_index("category_id")["elasticity"] / planted - 1).abs()
    broken_error = (broken.set_index("category_id")["elasticity"] / planted - 1).abs()
    print(f"elasticity: median |error| {error.median():.2f} vs shuffled {broken_error.median():.2f}; ")
    print(f"metrics {elasticity_metrics(good)} vs shuffled {elasticity_metrics(broken)}")
    assert elasticity_passes(elasticity_metrics(good), bars)
    assert not elasticity_passes(elasticity_metrics(broken), bars)
    # Against the planted values: a small world cannot pin each category, but the median is close and far
    # closer than prices that carry no information.
    assert error.median() < 0.35 < broken_error.median()


def test_segments_from_shuffled_behaviour_fail_the_bar_and_real_ones_find_the_personas(built, inputs):
    _, customers = inputs
    bars = built.settings.ml_bars
    rng = np.random.default_rng(0)
    shuffled = customers.apply(lambda column: rng.permutation(column.to_numpy()))
    good, broken = train_customer_segmentation(customers), train_customer_segmentation(shuffled)
    personas = pd.read_csv(built.settings.truth_dir / "customer_personas.csv").set_index("customer_id")["persona"]
    ari = adjusted_rand_score(personas.reindex(good.segments["customer_id"]), good.segments["segment_id"])
    broken_ari = adjusted_rand_score(personas.reindex(broken.segments["customer_id"]), broken.segments["segment_id"])
    print(f"segments: silhouette {good.metrics['silhouette']} vs shuffled {broken.metrics['silhouette']}; ")
    print(f"ARI {ari:.3f} vs shuffled {broken_ari:.3f}")
    assert segmentation_passes(good.metrics, bars) and not segmentation_passes(broken.metrics, bars)
    assert ari > 0.45 and broken_ari < 0.05


def test_the_model_inputs_do_not_depend_on_the_order_the_marts_stored_their_rows(built, inputs, tmp_path):
    """Two builds of the same marts store their rows in different orders (dbt's threads, DuckDB's parallel
    inserts). A feature averaged over doubles then differs by the last bit, and the forecast's backtest with
    it: the session warehouse once missed its bar by that alone. The same marts, stored in another order, must give
    the same features to the bit."""
    copy = tmp_path / "reordered.duckdb"
    with duckdb.connect(str(copy)) as con:
        con.execute(f"attach '{built.settings.warehouse_path}' as built (read_only)")
        con.execute("create schema marts")
        # Another storage order, one thread: every aggregate over these rows sums them in another order.
        con.execute("set threads = 1")
        for (table,) in con.execute(
            "select table_name from duckdb_tables() where database_name = 'built' and schema_name = 'marts'"
        ).fetchall():
            con.execute(f"create table marts.{table} as select * from built.marts.{table} as t order by hash(t)")
        con.execute("detach built")
        panel, behaviour = product_day_panel(con), customer_behaviour(con)
    expected_panel, expected_behaviour = inputs
    pd.testing.assert_frame_equal(panel, expected_panel, check_exact=True)
    pd.testing.assert_frame_equal(behaviour, expected_behaviour, check_exact=True)
