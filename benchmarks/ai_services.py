"""Benchmark of the AI services (sentiment and support intents, security monitoring) on an existing warehouse
(build one first: ``futuremart run``), graded against the planted truth.

Records figures (never asserts): wall time of each service run the way the assets run it (staging read,
scored, tables written), sentiment accuracy per source against ``truth/{review,support,social}_labels.csv``
(``polar_accuracy``: on the positive and negative documents, a neutral prediction counting as a miss, the
acceptance figure; ``accuracy``: all three classes), the same for plain VADER without the retail lexicon,
intent accuracy against ``truth/support_labels.csv``, and the security alerts' recall and precision against
``truth/security_attack_events.csv`` (see ``ml.security_monitoring.evaluate_alerts``). Targets (issue 9, at
scale 1): polar accuracy >= 0.8 per source; attack recall >= 0.9 with precision >= 0.8. Run:
``FUTUREMART_HOME=... python -m benchmarks.ai_services``; results are appended to
``$FUTUREMART_HOME/bench/ai_services.json`` and printed. It writes the ``ml`` and ``security`` tables of that
warehouse.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time

import duckdb
import pandas as pd
import typer

from futuremart.settings import Settings
from ml import ai_services, security_monitoring, sentiment

app = typer.Typer(add_completion=False)
LABEL_FILES = {
    "review": ("review_labels.csv", "review_id"),
    "support": ("support_labels.csv", "conversation_id"),
    "social": ("social_labels.csv", "mention_id"),
}


@app.command()
def main() -> None:
    settings = Settings.from_env()
    seconds: dict[str, float] = {}
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("set threads = 2")
        t0 = time.perf_counter()
        sentiment_metrics = ai_services.run_sentiment(con, settings)
        seconds["sentiment"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        monitoring = ai_services.run_security_monitoring(con, settings)
        seconds["security_monitoring"] = time.perf_counter() - t0
        scores = con.execute("select * from ml.sentiment_scores").df()
        insights = con.execute("select conversation_id, intent from ml.support_conversation_insights").df()
        alerts = con.execute("select * from security.alerts").df()
        alert_events = con.execute("select * from security.alert_events").df()
        # The same documents through VADER without the retail lexicon and phrases, for comparison.
        documents = sentiment.read_documents(con)
    plain_scores, _ = sentiment.score_documents(
        documents, sentiment.build_analyzer({}), settings.sentiment_neutral_band, phrases=()
    )

    # Grading against the planted truth happens here only, never in the ml package.
    truth = settings.truth_dir
    graded, graded_plain = {}, {}
    for source, (file, id_column) in LABEL_FILES.items():
        labels = pd.read_csv(truth / file)
        graded[source] = sentiment.accuracy_against_labels(scores[scores["source"] == source], labels, id_column)
        graded_plain[source] = sentiment.accuracy_against_labels(
            plain_scores[plain_scores["source"] == source], labels, id_column
        )
    intents = pd.read_csv(truth / "support_labels.csv").merge(insights, on="conversation_id", suffixes=("_true", ""))
    planted = pd.read_csv(truth / "security_attack_events.csv")
    figures = {
        "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scale_factor": settings.scale_factor,
        "cpus": os.cpu_count(),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
        "sentiment_neutral_band": settings.sentiment_neutral_band,
        "sentiment_vs_truth": graded,
        "plain_vader_vs_truth": graded_plain,
        "intent_accuracy": float((intents["intent"] == intents["intent_true"]).mean()),
        "pipeline_metrics": sentiment_metrics,
        "security_params": {"z_threshold": settings.security_alert_z, "min_events": settings.security_alert_min_events},
        "security_vs_truth": security_monitoring.evaluate_alerts(alerts, alert_events, planted),
        "security_pipeline_metrics": monitoring,
        "targets": {"polar_accuracy": 0.8, "attack_recall": 0.9, "precision": 0.8},
    }
    out = settings.home / "bench" / "ai_services.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    history = json.loads(out.read_text()) if out.exists() else []
    out.write_text(json.dumps([*history, figures], indent=2) + "\n")
    typer.echo(json.dumps(figures, indent=2))
    typer.echo(f"appended to {out}")


if __name__ == "__main__":
    app()
