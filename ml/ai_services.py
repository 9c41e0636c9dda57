"""Score, detect and write: the sentiment and support analytics, and the security monitoring, called by the
Dagster assets (``orchestration/defs/ai_services.py``) and the benchmark.

Each function reads staging (the only layer with the texts and the address tokens) through ``con``, a
read-write connection, writes its tables and returns its figures as a plain dict; nothing here reads the
answer key.
"""

from __future__ import annotations

import duckdb

from futuremart.settings import Settings
from ml import security_monitoring, sentiment
from ml.registry import write_table

SECURITY_SCHEMA = "security"
SCORER_VERSION = "vader-3.3.2+retail-1"
DETECTOR_VERSION = "robust-z-1"


def run_sentiment(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, float]:
    """Score reviews, support conversations and social mentions; write ``ml.sentiment_scores`` (one row per
    document), ``ml.support_conversation_insights`` (one row per conversation: intent, sentiment, outcome)
    and ``ml.agg_support_by_intent`` (month x intent). Returns the metrics of :func:`sentiment.sentiment_metrics`."""
    documents = sentiment.read_documents(con)
    scores, insights = sentiment.score_documents(documents, sentiment.build_analyzer(), settings.sentiment_neutral_band)
    metrics = sentiment.sentiment_metrics(scores, insights, documents["reviews"])
    write_table(con, "sentiment_scores", scores.assign(scorer_version=SCORER_VERSION))
    write_table(con, "support_conversation_insights", insights.assign(scorer_version=SCORER_VERSION))
    write_table(con, "agg_support_by_intent", sentiment.support_by_intent(insights))
    return metrics


def detector_params(settings: Settings) -> security_monitoring.DetectorParams:
    return security_monitoring.DetectorParams(settings.security_alert_z, settings.security_alert_min_events)


def run_security_monitoring(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, float]:
    """Detect anomalous sign-in and data-access windows; write ``security.alerts`` and ``security.alert_events``.
    Returns the detector's figures and its canary recall (synthetic bursts injected into a copy of the events)."""
    logins, accesses = security_monitoring.read_events(con)
    params = detector_params(settings)
    scored = security_monitoring.score_windows(logins, accesses)
    alerts, alert_events, figures = security_monitoring.detect(logins, accesses, params, scored)
    write_table(con, "alerts", alerts.assign(detector_version=DETECTOR_VERSION), schema=SECURITY_SCHEMA)
    write_table(con, "alert_events", alert_events, schema=SECURITY_SCHEMA)
    recall = security_monitoring.canary_recall(logins, accesses, params, settings.seed, scored)
    return figures | {"canary_recall": recall, "alert_events": float(len(alert_events))}
