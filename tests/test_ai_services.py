"""The AI services in the real job: sentiment and support intents (ml schema) and security alerts (security
schema), graded against the planted truth of the small world, and shown to fail their bars when broken."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from futuremart.publish import ROLE_COPIES
from ml import security_monitoring, sentiment
from ml.ai_services import detector_params

LABELS = {
    "review": ("review_labels.csv", "review_id"),
    "support": ("support_labels.csv", "conversation_id"),
    "social": ("social_labels.csv", "mention_id"),
}
CHECKS = {"sentiment_agrees_with_ratings", "support_intents_recognized", "detector_flags_canaries"}


@pytest.fixture(scope="module")
def documents(built) -> dict[str, pd.DataFrame]:
    with built.connect() as con:
        return sentiment.read_documents(con)


@pytest.fixture(scope="module")
def events(built) -> tuple[pd.DataFrame, pd.DataFrame]:
    with built.connect() as con:
        return security_monitoring.read_events(con)


def _published(built, role: str) -> set[str]:
    path = built.settings.published_dir / ROLE_COPIES[role].file_name
    with duckdb.connect(str(path), read_only=True) as con:
        return {f"{s}.{t}" for s, t in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()}


def test_the_job_scores_detects_and_publishes_to_the_right_roles(built):
    evaluations = {e.check_name: e.passed for e in built.result.get_asset_check_evaluations()}
    assert {name: evaluations.get(name) for name in CHECKS} == dict.fromkeys(CHECKS, True)
    analyst, steward = _published(built, "analyst"), _published(built, "steward")
    ours = {"ml.sentiment_scores", "ml.support_conversation_insights", "ml.agg_support_by_intent"}
    assert ours <= analyst
    # The alerts name accounts and address tokens: the steward's copy has them, the analysts' does not.
    assert {"security.alerts", "security.alert_events"} <= steward
    assert not {t for t in analyst | _published(built, "marketing") if t.startswith("security.")}
    with built.connect() as con:
        columns = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns where table_schema = 'ml' "
                "and table_name in ('sentiment_scores', 'support_conversation_insights', 'agg_support_by_intent')"
            ).fetchall()
        }
        # Ids and scores only: the free text stays in staging.
        assert not columns & {"review_body", "review_title", "transcript", "mention_text", "author_handle_token"}
        per_source = dict(con.execute("select source, count(*) from ml.sentiment_scores group by all").fetchall())
        expected = con.execute(
            "select (select count(*) from marts.fct_reviews), (select count(*) from marts.fct_support_conversations), "
            "(select count(*) from staging.stg_external__social_mentions)"
        ).fetchone()
        assert (per_source["review"], per_source["support"], per_source["social"]) == expected


def test_sentiment_separates_planted_positive_and_negative_texts(built):
    with built.connect() as con:
        scores = con.execute("select * from ml.sentiment_scores").df()
    for source, (file, id_column) in LABELS.items():
        labels = pd.read_csv(built.settings.truth_dir / file)
        graded = sentiment.accuracy_against_labels(scores[scores["source"] == source], labels, id_column)
        assert graded["polar_documents"] >= 20, source
        assert graded["polar_accuracy"] >= 0.8, (source, graded)


def test_a_scorer_with_flipped_polarity_fails_the_bar(built, documents):
    bars = built.settings.ai_service_bars
    band = built.settings.sentiment_neutral_band
    good_scores, good_insights = sentiment.score_documents(documents, sentiment.build_analyzer(), band)
    good = sentiment.sentiment_metrics(good_scores, good_insights, documents["reviews"])
    assert sentiment.sentiment_passes(good, bars)
    lexicon = sentiment.build_analyzer().lexicon
    flipped = sentiment.build_analyzer({word: -valence for word, valence in lexicon.items()})
    bad_scores, bad_insights = sentiment.score_documents(documents, flipped, band)
    bad = sentiment.sentiment_metrics(bad_scores, bad_insights, documents["reviews"])
    assert not sentiment.sentiment_passes(bad, bars), bad["rating_agreement"]
    labels = pd.read_csv(built.settings.truth_dir / "review_labels.csv")
    graded = sentiment.accuracy_against_labels(bad_scores[bad_scores["source"] == "review"], labels, "review_id")
    assert graded["polar_accuracy"] < 0.5


def test_support_intents_match_the_planted_ones_and_the_aggregate_adds_up(built):
    with built.connect() as con:
        insights = con.execute("select * from ml.support_conversation_insights").df()
        by_intent = con.execute("select * from ml.agg_support_by_intent").df()
        resolved = con.execute(
            "select count(*) filter (where is_resolved) from marts.fct_support_conversations"
        ).fetchone()[0]
    planted = pd.read_csv(built.settings.truth_dir / "support_labels.csv")
    joined = planted.merge(insights, on="conversation_id", suffixes=("_true", ""))
    assert len(joined) == len(insights) > 0
    assert (joined["intent"] == joined["intent_true"]).mean() >= 0.9
    assert by_intent["conversations"].sum() == len(insights)
    assert by_intent["resolved"].sum() == resolved
    assert (
        (by_intent["resolved"] + by_intent["escalated"] + by_intent["unresolved"]) == by_intent["conversations"]
    ).all()
    assert by_intent["resolution_rate"].between(0, 1).all()
    # An opening turn from another domain gets no intent, so a classifier that recognises nothing fails its bar.
    assert sentiment.classify_intent("customer: I like turtles.") == sentiment.OTHER_INTENT
    assert not sentiment.intents_pass({"intent_coverage": 0.0}, built.settings.ai_service_bars)


def test_security_alerts_find_the_planted_attacks_and_little_else(built):
    with built.connect() as con:
        alerts = con.execute("select * from security.alerts").df()
        alert_events = con.execute("select * from security.alert_events").df()
    planted = pd.read_csv(built.settings.truth_dir / "security_attack_events.csv")
    graded = security_monitoring.evaluate_alerts(alerts, alert_events, planted)
    assert graded["planted_attacks"] >= 2
    assert graded["attack_recall"] >= 0.9, graded
    assert graded["precision"] >= 0.8, graded
    assert set(alerts["severity"]) <= {"high", "medium", "low"}
    assert alerts["evidence"].str.contains('"z_scores"').all()


def test_a_blind_or_trigger_happy_detector_fails_the_check(built, events):
    bars = built.settings.ai_service_bars
    params = detector_params(built.settings)
    logins, accesses = events
    _, _, figures = security_monitoring.detect(logins, accesses, params)
    recall = security_monitoring.canary_recall(logins, accesses, params, built.settings.seed)
    assert security_monitoring.monitoring_passes(figures | {"canary_recall": recall}, bars)
    blind = security_monitoring.DetectorParams(z_threshold=params.z_threshold, min_events=10_000)
    _, _, blind_figures = security_monitoring.detect(logins, accesses, blind)
    blind_recall = security_monitoring.canary_recall(logins, accesses, blind, built.settings.seed)
    assert blind_recall == 0.0
    assert not security_monitoring.monitoring_passes(blind_figures | {"canary_recall": blind_recall}, bars)
    # Alerting on every window with any event: the flood guard fails it although every canary is flagged.
    happy = security_monitoring.DetectorParams(z_threshold=-1.0, min_events=1)
    _, _, happy_figures = security_monitoring.detect(logins, accesses, happy)
    happy_recall = security_monitoring.canary_recall(logins, accesses, happy, built.settings.seed)
    assert not security_monitoring.monitoring_passes(happy_figures | {"canary_recall": happy_recall}, bars)


def test_the_canaries_are_scored_on_top_of_the_real_windows_as_if_injected(built, events):
    """The check counts only the windows the canaries fall in again (the real ones are counted once a night):
    the windows, their scores and the recall must be those of the detector run on the injected copy."""
    logins, accesses = events
    scored = security_monitoring.score_windows(logins, accesses)
    extra_logins, extra_accesses, canaries = security_monitoring.canary_events(logins, accesses, built.settings.seed)
    # The sign-in canaries try real accounts: the account detector's windows of those hours change.
    assert extra_logins["account_id"].isin(logins["account_id"]).all()
    on_top = security_monitoring.score_windows_with(scored, logins, accesses, extra_logins, extra_accesses)
    injected_logins, injected_accesses, _ = security_monitoring.inject_canaries(logins, accesses, built.settings.seed)
    injected = security_monitoring.score_windows(injected_logins, injected_accesses)
    for name, windows in injected.items():
        pd.testing.assert_frame_equal(
            on_top[name].sort_values(["source", "window_start"]).reset_index(drop=True),
            windows.sort_values(["source", "window_start"]).reset_index(drop=True),
            check_dtype=False,
        )
    params = detector_params(built.settings)
    for z in (2.0, params.z_threshold, 30.0, 60.0):
        for min_events in (1, params.min_events, 40):
            sweep = security_monitoring.DetectorParams(z_threshold=z, min_events=min_events)
            alerts, alert_events, _ = security_monitoring.detect(injected_logins, injected_accesses, sweep, injected)
            with_canary = set(alert_events.loc[alert_events["event_id"].str.startswith("canary-"), "alert_id"])
            hit = alerts[alerts["alert_id"].isin(with_canary)]
            expected = sum(c in set(zip(hit["detector"], hit["source"], strict=True)) for c in canaries) / len(canaries)
            assert security_monitoring.canary_recall(logins, accesses, sweep, built.settings.seed, scored) == expected
