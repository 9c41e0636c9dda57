"""Benchmark of the campaign uplift estimate (``ml.campaign_uplift``) against the planted uplift.

Records figures (never asserts). Two parts:

* ``warehouse``: on an existing warehouse (``futuremart run`` first; read only, nothing written), each
  campaign's estimate and interval next to ``truth/campaigns.csv``'s ``uplift``, and whether it meets the
  acceptance of issue 9 (within 20% of the planted value, or the planted value inside the interval).
* ``replication`` (``--seeds N``): the same estimator on N generated worlds (seeds 1..N, generator only: the
  simulation's orders, no warehouse), to tell sampling noise from bias: mean and spread of the log error,
  coverage of the 95% interval and the acceptance rate over every campaign of every seed.

Run: ``FUTUREMART_HOME=... python -m benchmarks.campaign_uplift [--seeds 20] [--scale 1]``; results are
appended to ``$FUTUREMART_HOME/bench/campaign_uplift.json`` and printed.
"""

from __future__ import annotations

import datetime as dt
import json
import time

import duckdb
import numpy as np
import pandas as pd
import typer

from futuremart.settings import Settings
from ml.campaign_uplift import estimate_uplift, read_member_lines

app = typer.Typer(add_completion=False)
RELATIVE_TOLERANCE = 0.20


def grade(table: pd.DataFrame, planted: pd.Series) -> pd.DataFrame:
    """The estimates with the planted uplift, the relative and log errors, coverage and acceptance."""
    out = table.set_index("campaign_id")[["uplift", "uplift_ci_low", "uplift_ci_high"]].copy()
    out["planted"] = planted.reindex(out.index)
    out["relative_error"] = out["uplift"] / out["planted"] - 1
    out["log_error"] = np.log1p(out["uplift"]) - np.log1p(out["planted"])
    out["covered"] = (out["uplift_ci_low"] <= out["planted"]) & (out["planted"] <= out["uplift_ci_high"])
    out["accepted"] = out["covered"] | (out["relative_error"].abs() <= RELATIVE_TOLERANCE)
    return out


def simulated_member_lines(seed: int, scale: float) -> tuple[pd.DataFrame, pd.Series]:
    """Window lines per audience member straight from the generator's simulation (same definition as
    ``int_marketing__campaign_member_outcomes``), and the planted uplift per campaign."""
    from ingestion.world.catalog import generate_catalog
    from ingestion.world.competitors import generate_competitor_prices
    from ingestion.world.customers import generate_customers
    from ingestion.world.demand import build_demand_model
    from ingestion.world.marketing import plan_campaigns
    from ingestion.world.pools import build_pools
    from ingestion.world.reference import read_categories, read_regions
    from ingestion.world.simulate import simulate
    from ingestion.world.taste import generate_taste
    from ingestion.world.weather import generate_weather

    settings = Settings(seed=seed, scale_factor=scale)
    days = pd.date_range(settings.start_date, settings.end_date, freq="D")
    categories, regions = read_categories(), read_regions()
    region_codes = list(regions["region_code"])
    pools = build_pools(seed)
    catalog = generate_catalog(seed, scale, categories, pools, days)
    customers = generate_customers(seed, scale, region_codes, pools, settings.start_date, settings.end_date)
    weather = generate_weather(seed, region_codes, days)
    competitor_index, _ = generate_competitor_prices(seed, catalog.products, days)
    demand = build_demand_model(scale, catalog, weather, competitor_index, region_codes, days)
    campaigns = plan_campaigns(seed, customers.profiles, customers.consent_withdrawals, days)
    taste = generate_taste(seed, customers.profiles, catalog.products)
    sim = simulate(seed, days, catalog, customers, demand, campaigns, taste)
    buyer = sim.orders.set_index("order_seq")["customer"].reindex(sim.order_lines["order_seq"]).to_numpy()
    day = sim.order_lines["day"].to_numpy()
    frames = []
    for c in campaigns.campaigns.itertuples():
        in_window = (day >= c.start_day) & (day <= c.end_day)
        per_customer = np.bincount(buyer[in_window], minlength=len(customers.profiles))
        audience = campaigns.audiences[campaigns.audiences["campaign_id"] == c.campaign_id]
        frames.append(
            pd.DataFrame(
                {
                    "campaign_id": c.campaign_id,
                    "customer_id": audience["customer_id"].to_numpy(),
                    "assigned_group": audience["assigned_group"].to_numpy(),
                    "lines_in_window": per_customer[audience["customer_index"].to_numpy()],
                }
            )
        )
    return pd.concat(frames, ignore_index=True), campaigns.campaigns.set_index("campaign_id")["uplift"]


@app.command()
def main(
    seeds: int = typer.Option(0, help="also replicate on generated worlds with seeds 1..N (generator only)"),
    scale: float = typer.Option(1.0, help="scale factor of the replicated worlds"),
) -> None:
    settings = Settings.from_env()
    figures: dict[str, object] = {"recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    if settings.warehouse_path.exists():
        t0 = time.perf_counter()
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            table = estimate_uplift(read_member_lines(con), settings.seed, settings.uplift_resamples)
        seconds = time.perf_counter() - t0
        planted = pd.read_csv(settings.truth_dir / "campaigns.csv").set_index("campaign_id")["uplift"]
        graded = grade(table, planted)
        figures["warehouse"] = {
            "home": str(settings.home),
            "seed": settings.seed,
            "scale": settings.scale_factor,
            "seconds": round(seconds, 2),
            "accepted": int(graded["accepted"].sum()),
            "campaigns": len(graded),
            "by_campaign": graded.round(4).reset_index().to_dict(orient="records"),
        }
    if seeds:
        t0 = time.perf_counter()
        graded = []
        for seed in range(1, seeds + 1):
            members, planted = simulated_member_lines(seed, scale)
            graded.append(grade(estimate_uplift(members, seed, settings.uplift_resamples), planted).assign(seed=seed))
        every = pd.concat(graded)
        figures["replication"] = {
            "seeds": seeds,
            "scale": scale,
            "estimates": len(every),
            "mean_log_error": round(float(every["log_error"].mean()), 4),
            "sd_log_error": round(float(every["log_error"].std()), 4),
            "coverage_95": round(float(every["covered"].mean()), 4),
            "within_20_percent": round(float((every["relative_error"].abs() <= RELATIVE_TOLERANCE).mean()), 4),
            "accepted": round(float(every["accepted"].mean()), 4),
            "worlds_with_every_campaign_accepted": int(every.groupby("seed")["accepted"].all().sum()),
            "seconds": round(time.perf_counter() - t0, 1),
        }
    out = settings.home / "bench" / "campaign_uplift.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    history = json.loads(out.read_text()) if out.exists() else []
    out.write_text(json.dumps([*history, figures], indent=2, default=str))
    print(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    app()
