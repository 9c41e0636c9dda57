"""Recommendations and activation audiences on the session warehouse (scale 0.02).

The recommender beats the popularity baseline on the held-out weeks by the small world's bar, and the same
evaluation with shuffled scores misses it; recommendations lean to each persona's planted categories and to
each customer's planted favourite brands and everyday products (truth). Every audience row has consent for its
channel as of the run date by the generator's own consent events (the landed extracts, read here with DuckDB,
not through the pipeline); after a real erasure the erased customer is gone from every file and a new export
does not bring them back.
"""

from __future__ import annotations

import json
import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest

from futuremart import activation
from futuremart.erasure import erase_customers
from ml.checks import recommendations_pass
from ml.recommendations import TOP_K, evaluate_recommendations, precision_recall_at_k, read_interactions, top_k


@pytest.fixture(scope="module")
def evaluation(built):
    with built.connect() as con:
        return evaluate_recommendations(read_interactions(con))


def test_recommendations_are_written_registered_and_pass_their_check(built):
    evaluations = {e.check_name: e.passed for e in built.result.get_asset_check_evaluations()}
    assert evaluations["recommendations_beat_popularity"] is True
    assert evaluations["audiences_respect_consent"] is True
    with built.connect() as con:
        metrics = json.loads(
            con.execute(
                "select metrics from ml.model_registry where model_name = 'product_recommendations'"
            ).fetchone()[0]
        )
        customers = con.execute("select count(*) from marts.fct_customer_lifetime").fetchone()[0]
        shape = con.execute(
            "select count(*), count(distinct customer_id), min(rank), max(rank), "
            "count(distinct (customer_id, product_id)) from ml.customer_recommendations"
        ).fetchone()
        rebought_categories = con.execute(
            "select distinct p.category_id from ml.customer_recommendations as r "
            "join marts.fct_order_lines as l using (customer_id, product_id) "
            "join marts.dim_product as p using (product_id) where not l.is_cancelled"
        ).df()["category_id"]
    assert shape == (customers * TOP_K, customers, 1, TOP_K, customers * TOP_K)
    # A product the customer bought is recommended again only in a category the world plants as repeatable
    # (groceries, beauty); the model learns which from behaviour (none at this scale, where chance repeats
    # are as common as real ones).
    params = pd.read_csv(built.settings.truth_dir / "category_params.csv")
    assert set(rebought_categories) <= set(params.loc[params["repeatable"], "category_id"])
    assert recommendations_pass(metrics, built.settings.ml_bars)
    # At scale 0.02 the model does not beat popularity (about 120 customers evaluated; the small bar allows
    # that, the full bar at SF1 does not): only its evaluation is asserted to be real here.
    assert metrics["evaluated_customers"] >= 20 and metrics["precision_at_10"] > 0


def test_shuffled_scores_miss_the_bar(built, evaluation):
    bars = built.settings.ml_bars
    assert recommendations_pass(evaluation.metrics, bars)
    rng = np.random.default_rng(0)
    # The same scores, given to the wrong products (each customer's row permuted): the evaluation must fail.
    shuffled = np.array([row[rng.permutation(len(row))] for row in evaluation.model_scores])
    precision, _ = precision_recall_at_k(top_k(shuffled), evaluation.held_out)
    gain = precision / evaluation.metrics["baseline_precision_at_10"] - 1
    assert not recommendations_pass({"precision_gain": gain}, bars), gain


def test_recommendations_favour_each_personas_planted_categories(built):
    truth = built.settings.truth_dir
    affinity = pd.read_csv(truth / "personas.csv").set_index("name")["affinity"].dropna()
    personas = pd.read_csv(truth / "customer_personas.csv")
    with built.connect() as con:
        con.register("personas", personas)
        shares = con.execute(
            "select s.persona, p.category_id, count(*) as n from ml.customer_recommendations as r "
            "join marts.dim_product as p using (product_id) join personas as s using (customer_id) group by all"
        ).df()
    table = shares.pivot_table(index="persona", columns="category_id", values="n", fill_value=0)
    overall = table.sum() / table.to_numpy().sum()
    lifts = {}
    for persona, spec in affinity.items():
        favoured = [item.split("=")[0] for item in spec.split(";")]
        mine = table.loc[persona, table.columns.intersection(favoured)].sum() / table.loc[persona].sum()
        lifts[persona] = mine / overall[overall.index.intersection(favoured)].sum()
    # Each persona's recommendations hold more of its favourite categories than everyone's do, on average
    # and for most personas (a small world leaves a persona or two with few purchases to learn from).
    assert np.mean(list(lifts.values())) > 1.05, lifts
    assert sum(lift > 1.0 for lift in lifts.values()) >= len(lifts) - 1, lifts


def test_recommendations_hold_each_customers_planted_favourites(built):
    """Graded against truth/customer_affinities.csv: with the brand lift on (the weight the SF1 world chooses;
    a world this small may choose it off), the evaluated customers' top 10 hold their own favourite brands and
    everyday products well above the popularity baseline's top 10 for the same customers."""
    with built.connect() as con:
        evaluation = evaluate_recommendations(read_interactions(con), brand_weight=1.0)
    affinities = pd.read_csv(built.settings.truth_dir / "customer_affinities.csv")
    with built.connect() as con:
        products = con.execute("select product_id, brand from marts.dim_product order by product_id").df()
    favourite = set(zip(affinities["customer_id"], affinities["affinity_value"], strict=True))

    def favourite_share(scores: np.ndarray) -> float:
        best = top_k(scores)
        customer = np.repeat(evaluation.customers, best.shape[1])
        brand, product = (products[c].to_numpy()[best.ravel()] for c in ("brand", "product_id"))
        items = zip(customer, brand, product, strict=True)
        return float(np.mean([(c, b) in favourite or (c, p) in favourite for c, b, p in items]))

    model, baseline = favourite_share(evaluation.model_scores), favourite_share(evaluation.baseline_scores)
    assert model > 1.5 * baseline and model > 0.05, (model, baseline)


def landed_consent_as_of(built) -> pd.DataFrame:
    """The generator's consent events as landed, reduced to each (customer, channel)'s status as of the run
    date and today's status, read straight from the CSV files."""
    as_of = built.settings.last_partition_date
    pattern = str(built.settings.landing_dir / "crm" / "consents" / "*" / "consents.csv")
    with duckdb.connect() as con:
        return con.execute(
            f"""
            with events as (select * from read_csv('{pattern}', all_varchar = true)),
            ranked as (
                select customer_id, channel, consent_status, cast(recorded_at as timestamp) as recorded_at,
                    row_number() over (partition by customer_id, channel order by cast(recorded_at as timestamp) desc)
                        as n_latest
                from events
            )
            select customer_id, channel,
                arg_max(consent_status, recorded_at) filter (where recorded_at < ?::date + interval 1 day) as as_of,
                max(consent_status) filter (where n_latest = 1) as latest
            from ranked group by all
            """,
            [as_of],
        ).df()


def audience_rows(published_dir) -> pd.DataFrame:
    folder = activation.activation_dir(published_dir)
    frames = [
        pd.read_csv(folder / e.file, dtype=str, keep_default_na=False).assign(channel=e.channel)
        for e in activation.read_manifest(published_dir)
    ]
    return pd.concat(frames, ignore_index=True)


def test_audiences_hold_only_customers_consented_as_of_the_run_date(built):
    manifest = json.loads((activation.activation_dir(built.settings.published_dir) / "manifest.json").read_text())
    entries = manifest["files"]
    assert {e["channel"] for e in entries} == {"email", "push"}
    for entry in entries:
        assert (
            entry["consent_basis"]
            and entry["created_at"]
            and entry["as_of_date"] == str(built.settings.last_partition_date)
        )
    rows = audience_rows(built.settings.published_dir)
    assert len(rows) == sum(e["count"] for e in entries) > 0
    consent = landed_consent_as_of(built)
    merged = rows.merge(consent, on=["customer_id", "channel"], how="left")
    assert merged["as_of"].eq("granted").all() and merged["latest"].eq("granted").all()
    # ... and nobody consented was left out of their segment's audience.
    granted = consent[(consent["as_of"] == "granted") & (consent["latest"] == "granted")]
    assert set(zip(rows["customer_id"], rows["channel"], strict=True)) == set(
        zip(granted["customer_id"], granted["channel"], strict=True)
    )
    # Identifiers and tokens only: email tokens are HMAC hex digests, never addresses.
    email = rows[rows["channel"] == "email"]
    assert email["email_token"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert not rows.drop(columns="channel").apply(lambda c: c.str.contains("@")).any().any()


def test_an_erased_customer_leaves_every_audience_and_stays_out(built, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(built.settings.home, home, ignore=shutil.ignore_patterns("landing", "models", "reports"))
    settings = built.settings.with_overrides(home=home)
    before = audience_rows(settings.published_dir)
    victim = before[before["channel"] == "email"]["customer_id"].iloc[0]
    erase_customers(settings, [victim], "steward: test", "GDPR art. 17", rebuild=False, republish=False)
    after = audience_rows(settings.published_dir)
    assert victim not in set(after["customer_id"])
    assert len(after) == len(before) - int((before["customer_id"] == victim).sum())
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        found = activation.audit_audiences(con, settings.published_dir, settings.last_partition_date)
        rebuilt = activation.build_audiences(con, settings.last_partition_date)
    assert found["erased"] == found["without_consent"] == found["manifest_mismatch"] == 0 and found["rows"] > 0
    assert all(victim not in set(frame["customer_id"]) for frame in rebuilt.values())
