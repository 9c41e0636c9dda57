"""AI services after staging: sentiment and support analytics (group ``customer_insights``) and security
monitoring (group ``security``); logic in ``ml/sentiment.py``, ``ml/security_monitoring.py`` and
``ml/ai_services.py``. Each asset attaches its figures as metadata and a blocking check per bar
(``Settings.ai_service_bars``): a failed check keeps the published copies from being replaced."""

from dataclasses import asdict

import dagster as dg

from ml.security_monitoring import monitoring_passes
from ml.sentiment import intents_pass, sentiment_passes
from orchestration.resources import FutureMartResource

KINDS = {"python", "duckdb"}
SENTIMENT_CHECK = "sentiment_agrees_with_ratings"
INTENT_CHECK = "support_intents_recognized"
MONITORING_CHECK = "detector_flags_canaries"


def _services():  # noqa: ANN202 - the ml.ai_services module
    # Imported when an asset runs, not when the code location loads (pandas work and the VADER lexicon).
    from ml import ai_services

    return ai_services


def _staging(*names: str) -> list[dg.AssetKey]:
    return [dg.AssetKey(["staging", name]) for name in names]


def _floats(metrics: dict[str, float]) -> dict[str, float]:
    return {key: float(value) for key, value in metrics.items()}


SENTIMENT_SCORES = dg.AssetKey(["ml", "sentiment_scores"])
SUPPORT_INSIGHTS = dg.AssetKey(["ml", "support_conversation_insights"])
SUPPORT_BY_INTENT = dg.AssetKey(["ml", "agg_support_by_intent"])
CUSTOMER_INSIGHT_OWNERS = ["team:data-science"]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            SENTIMENT_SCORES,
            group_name="customer_insights",
            owners=CUSTOMER_INSIGHT_OWNERS,
            kinds=KINDS,
            deps=_staging("stg_crm__reviews", "stg_crm__support_conversations", "stg_external__social_mentions"),
            description="Sentiment of every review, support conversation (the customer's closing turn) and social "
            "mention: VADER's compound score, its shares and a label (ml.sentiment_scores, one row per source and "
            "document; ids and scores only, no text). Metadata: agreement with the star ratings, label shares.",
        ),
        dg.AssetSpec(
            SUPPORT_INSIGHTS,
            group_name="customer_insights",
            owners=CUSTOMER_INSIGHT_OWNERS,
            kinds=KINDS,
            deps=_staging("stg_crm__support_conversations"),
            description="One row per support conversation (ml.support_conversation_insights): intent of the "
            "customer's opening turn, opening and closing sentiment, resolution, minutes to close.",
        ),
        dg.AssetSpec(
            SUPPORT_BY_INTENT,
            group_name="customer_insights",
            owners=CUSTOMER_INSIGHT_OWNERS,
            kinds=KINDS,
            deps=[SUPPORT_INSIGHTS],
            description="What the support team watches, per month and intent (ml.agg_support_by_intent): "
            "conversations, resolution rate and outcomes, median and p90 minutes to resolve, closing sentiment and "
            "the shares of negative and positive closings.",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            SENTIMENT_CHECK,
            asset=SENTIMENT_SCORES,
            blocking=True,
            description="Reviews rated 4-5 stars are scored positive and 1-2 stars negative, in at least the "
            "bar's share (the stars are the customer's own verdict, recorded apart from the text).",
        ),
        dg.AssetCheckSpec(
            INTENT_CHECK,
            asset=SUPPORT_INSIGHTS,
            blocking=True,
            description="At least the bar's share of support conversations gets a known intent (not 'other').",
        ),
    ],
    pool="duckdb_writer",
)
def customer_sentiment(context: dg.AssetExecutionContext, futuremart: FutureMartResource):
    """Score the texts, write the three tables, report the figures and both checks."""
    settings = futuremart.settings
    with futuremart.warehouse() as con:
        metrics = _services().run_sentiment(con, settings)
    context.log.info("sentiment: %s", metrics)
    bars = settings.ai_service_bars
    shown = {"bars": dg.MetadataValue.json(asdict(bars))}
    yield dg.MaterializeResult(asset_key=SENTIMENT_SCORES, metadata=_floats(metrics))
    yield dg.MaterializeResult(
        asset_key=SUPPORT_INSIGHTS,
        metadata={
            "conversations": metrics.get("support_documents", 0.0),
            "intent_coverage": metrics["intent_coverage"],
        },
    )
    yield dg.MaterializeResult(asset_key=SUPPORT_BY_INTENT)
    yield dg.AssetCheckResult(
        check_name=SENTIMENT_CHECK,
        asset_key=SENTIMENT_SCORES,
        passed=bool(sentiment_passes(metrics, bars)),
        metadata={"rating_agreement": metrics["rating_agreement"], "reviews_compared": metrics["reviews_compared"]}
        | shown,
    )
    yield dg.AssetCheckResult(
        check_name=INTENT_CHECK,
        asset_key=SUPPORT_INSIGHTS,
        passed=bool(intents_pass(metrics, bars)),
        metadata={"intent_coverage": metrics["intent_coverage"]} | shown,
    )


SECURITY_ALERTS = dg.AssetKey(["security", "alerts"])
SECURITY_ALERT_EVENTS = dg.AssetKey(["security", "alert_events"])
SECURITY_OWNERS = ["team:security"]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            SECURITY_ALERTS,
            group_name="security",
            owners=SECURITY_OWNERS,
            kinds=KINDS,
            deps=_staging("stg_security__login_events", "stg_security__data_access_events"),
            description="Security alerts (security.alerts): sign-in windows per IP-address token and per "
            "account, and data-access windows per staff account, whose robust z-score reaches "
            "FUTUREMART_SECURITY_ALERT_Z with at least FUTUREMART_SECURITY_ALERT_MIN_EVENTS events; with "
            "severity and evidence (features, z-scores, baseline). Published to the steward only.",
        ),
        dg.AssetSpec(
            SECURITY_ALERT_EVENTS,
            group_name="security",
            owners=SECURITY_OWNERS,
            kinds=KINDS,
            deps=[SECURITY_ALERTS],
            description="The events behind each alert (security.alert_events: alert id, event log, event id), "
            "for the investigation.",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            MONITORING_CHECK,
            asset=SECURITY_ALERTS,
            blocking=True,
            description="Synthetic attacks injected into a copy of the events (two credential-stuffing bursts "
            "smaller than any seen, one night-time bulk export) are flagged to the bar, and the detector flags "
            "no more than the bar's share of all windows.",
        ),
    ],
    pool="duckdb_writer",
)
def security_monitoring(context: dg.AssetExecutionContext, futuremart: FutureMartResource):
    """Detect, write the alerts and their events, report the figures and the check."""
    settings = futuremart.settings
    with futuremart.warehouse() as con:
        metrics = _services().run_security_monitoring(con, settings)
    context.log.info("security monitoring: %s", metrics)
    bars = settings.ai_service_bars
    yield dg.MaterializeResult(asset_key=SECURITY_ALERTS, metadata=_floats(metrics))
    yield dg.MaterializeResult(asset_key=SECURITY_ALERT_EVENTS, metadata={"rows": metrics["alert_events"]})
    yield dg.AssetCheckResult(
        check_name=MONITORING_CHECK,
        asset_key=SECURITY_ALERTS,
        passed=bool(monitoring_passes(metrics, bars)),
        metadata={"canary_recall": metrics["canary_recall"], "alert_share": metrics["alert_share"]}
        | {"bars": dg.MetadataValue.json(asdict(bars))},
    )


ai_service_assets = [customer_sentiment, security_monitoring]
