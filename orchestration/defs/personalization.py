"""Personalization: product recommendations per customer and the consented activation audiences built from
them (logic in ``ml.recommendations`` and ``futuremart.activation``).

``ml/customer_recommendations`` writes the top 10 products per customer to ``ml.customer_recommendations`` and
registers the model; its blocking check holds precision@10 on the held-out weeks to the bar over the
popularity baseline (``Settings.ml_bars``). ``published/activation_audiences`` exports one file per campaign and
channel under ``<published>/activation/`` with a manifest; its blocking check re-reads the files and fails on
any customer without consent for the channel as of the run date, any erased customer, or a column outside the
allowed list.
"""

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import asdict

import dagster as dg

from futuremart import activation
from futuremart.settings import Settings
from ml.checks import recommendations_pass
from ml.recommendations import RECOMMENDATION_MARTS
from orchestration.partitions import run_window
from orchestration.resources import FutureMartResource


def _train():  # noqa: ANN202 - the ml.train module
    # scikit-learn is imported when the asset runs, not when the code location loads (see defs/ml.py).
    from ml import train

    return train


@dg.asset(
    key=["ml", "customer_recommendations"],
    group_name="personalization",
    owners=["team:data-science"],
    kinds={"python", "scikitlearn", "duckdb"},
    deps=[dg.AssetKey(["marts", name]) for name in RECOMMENDATION_MARTS],
    pool="duckdb_writer",
    description="Top 10 products per customer (ml.customer_recommendations), bought products left out: "
    "KMeans groups of purchase taste (category x price tier) and activity, scored by the group's purchases. "
    "Evaluated on the last 28 days against the popularity baseline; metadata: precision@10, recall@10.",
)
def customer_recommendations(context: dg.AssetExecutionContext, futuremart: FutureMartResource) -> dg.MaterializeResult:
    with futuremart.warehouse() as con:
        metrics = _train().run_recommendations(con, futuremart.settings)
    context.log.info("recommendations: %s", metrics)
    return dg.MaterializeResult(metadata={key: float(value) for key, value in metrics.items()})


@dg.asset_check(
    asset=customer_recommendations,
    blocking=True,
    description="Precision@10 on the held-out weeks beats the popularity baseline by the bar.",
)
def recommendations_beat_popularity(futuremart: FutureMartResource) -> dg.AssetCheckResult:
    bars = futuremart.settings.ml_bars
    with futuremart.warehouse(read_only=True) as con:
        row = con.execute(
            "select metrics from ml.model_registry where model_name = 'product_recommendations' "
            "order by trained_at desc, version desc limit 1"
        ).fetchone()
    metrics = json.loads(row[0])
    shown = ("precision_at_10", "baseline_precision_at_10", "precision_gain", "recall_at_10", "baseline_recall_at_10")
    return dg.AssetCheckResult(
        passed=bool(recommendations_pass(metrics, bars)),
        metadata={**{key: float(metrics[key]) for key in shown}, "bars": dg.MetadataValue.json(asdict(bars))},
    )


def consent_date(tags: Mapping[str, str], settings: Settings) -> dt.date:
    """The day consent is judged as of: the run's last day (a nightly run for a day must not use consent
    given after it), or the calendar's last day for a run without partitions."""
    window = run_window(tags)
    return window[1] if window else settings.last_partition_date


# The trained outputs the audiences are made of.
MODEL_OUTPUTS = ("ml.customer_segments", "ml.customer_recommendations")


@dg.asset(
    key=["published", "activation_audiences"],
    group_name="personalization",
    owners=["team:marketing-analytics"],
    kinds={"python", "csv"},
    deps=[
        customer_recommendations,
        dg.AssetKey(["ml", "customer_segments"]),
        *(dg.AssetKey(key.split("/")) for key in activation.AUDIENCE_SOURCES),
    ],
    pool="duckdb_writer",
    description="Email and push audiences per campaign (one per customer segment) under "
    "<published>/activation/ with manifest.json (count, channel, consent basis, created at): only customers "
    "whose consent for the channel stands as of the run date, never an erased one; customer id, email token "
    "and three recommended products, no clear personal data. Files replaced atomically.",
)
def activation_audiences(context: dg.AssetExecutionContext, futuremart: FutureMartResource) -> dg.MaterializeResult:
    settings = futuremart.settings
    as_of = consent_date(context.run.tags, settings)
    with futuremart.warehouse(read_only=True) as con:
        missing = [
            t
            for t in MODEL_OUTPUTS
            if not con.execute(
                "select count(*) from duckdb_tables() where schema_name || '.' || table_name = ?", [t]
            ).fetchone()[0]
        ]
        if missing:
            # The nightly run does not train the models (weekly_model_training does): a warehouse that never
            # had them trained cannot have audiences yet.
            raise dg.Failure(
                f"{', '.join(missing)} missing: train the models first (job weekly_model_training, or "
                "`futuremart run` for a full build), then rerun this asset."
            )
        audiences = activation.build_audiences(con, as_of)
    entries = activation.export_audiences(settings.published_dir, audiences, as_of, tag=context.run_id)
    return dg.MaterializeResult(
        metadata={
            "as_of_date": as_of.isoformat(),
            "files": len(entries),
            "rows": sum(e.count for e in entries),
            "counts": dg.MetadataValue.json({e.file: e.count for e in entries}),
            "path": dg.MetadataValue.path(str(activation.activation_dir(settings.published_dir))),
        }
    )


@dg.asset_check(
    asset=activation_audiences,
    blocking=True,
    description="Every audience row has consent for its channel as of the run date; no erased customer; only "
    "allowed columns; files match the manifest.",
)
def audiences_respect_consent(
    context: dg.AssetCheckExecutionContext, futuremart: FutureMartResource
) -> dg.AssetCheckResult:
    settings = futuremart.settings
    with futuremart.warehouse(read_only=True) as con:
        found = activation.audit_audiences(con, settings.published_dir, consent_date(context.run.tags, settings))
    violations = sum(v for k, v in found.items() if k not in ("rows", "files"))
    return dg.AssetCheckResult(passed=violations == 0 and found["files"] > 0, metadata=dict(found))


personalization_assets = [customer_recommendations, activation_audiences]
personalization_checks = [recommendations_beat_popularity, audiences_respect_consent]
