"""Anomaly detection on sign-in and data-access events: robust z-scores per source and hour.

Events are counted per (source, clock hour) window, for three detectors:

- ``login_ip_hour``: sign-in attempts per IP-address token (credential stuffing: one address, many
  accounts, nearly all failing);
- ``login_account_hour``: sign-in attempts per account (password guessing against one account);
- ``data_access_account_hour``: rows read and exports per staff account (bulk exfiltration).

Each feature of a window gets a robust z-score, ``(x - median) / (1.4826 * MAD)``, against all windows of the
detector (for data access: against the same account's own windows, since staff roles differ). The scale has
a floor of one unit, because the typical window holds a single event and its MAD is 0. A window raises an
alert when its largest z-score reaches ``Settings.security_alert_z`` and it holds at least
``Settings.security_alert_min_events`` events. Severity follows the score: ``high`` from three times the
threshold, ``medium`` from 1.5 times, ``low`` below.

IP addresses are keyed tokens from the raw loader on; the detector works on tokens and never sees a clear
address. The alerts live in the ``security`` schema, published to the steward only (they name accounts and
address tokens).

:func:`inject_canaries` plants synthetic bursts (fresh sources, so no real window changes) into a copy of the
events: the pipeline's check runs the detector on that copy and requires every canary to be flagged,
without the answer key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from futuremart.frames import read_frame

MAD_TO_SIGMA = 1.4826
SCALE_FLOOR = 1.0
ALERT_COLUMNS = [
    "alert_id",
    "detector",
    "event_log",
    "source_kind",
    "source",
    "window_start",
    "window_end",
    "events",
    "failures",
    "distinct_accounts",
    "distinct_sources",
    "rows_returned",
    "exports",
    "score",
    "severity",
    "evidence",
]
CANARY_PREFIX = "canary-"


@dataclass(frozen=True)
class DetectorParams:
    """Alert threshold (largest robust z-score of a window) and fewest events a window needs."""

    z_threshold: float
    min_events: int


@dataclass(frozen=True)
class Detector:
    name: str
    event_log: str
    source_kind: str
    source_column: str
    features: tuple[str, ...]
    # z-scores against the source's own windows (True) or against every window of the detector (False)
    per_source_baseline: bool


DETECTORS = (
    Detector(
        "login_ip_hour",
        "login_events",
        "ip_address_token",
        "ip_address_token",
        ("failures", "distinct_accounts"),
        False,
    ),
    Detector("login_account_hour", "login_events", "account_id", "account_id", ("failures", "distinct_sources"), False),
    Detector(
        "data_access_account_hour", "data_access_events", "account_id", "account_id", ("log_rows", "exports"), True
    ),
)


def read_events(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(sign-in attempts, data accesses) from staging, the layer that carries the IP-address tokens; read
    through Arrow (:func:`futuremart.frames.read_frame`: 1.93M sign-ins at SF10 took 2.9 s with ``.df()``)."""
    logins = read_frame(
        con,
        "select login_id as event_id, account_id, ip_address_token, attempted_at as event_at, is_successful "
        "from staging.stg_security__login_events",
    )
    accesses = read_frame(
        con,
        "select access_id as event_id, account_id, accessed_at as event_at, table_name, rows_returned, "
        "access_action from staging.stg_security__data_access_events",
    )
    return logins, accesses


def _keyed(events: pd.DataFrame, detector: Detector) -> pd.DataFrame:
    """``events`` with their window's key: the detector's source column as ``source``, the hour as
    ``window_start``."""
    return events.assign(window_start=pd.to_datetime(events["event_at"]).dt.floor("h")).rename(
        columns={detector.source_column: "source"}
    )


def _windows(events: pd.DataFrame, detector: Detector) -> pd.DataFrame:
    # Keyed by the source column under its own name until counted: a login detector keyed by account still
    # counts the accounts of each window.
    frame = events.assign(window_start=pd.to_datetime(events["event_at"]).dt.floor("h"))
    keys = [detector.source_column, "window_start"]
    if detector.event_log == "login_events":
        other = "account_id" if detector.source_column == "ip_address_token" else "ip_address_token"
        frame = frame.assign(failed=~frame["is_successful"].astype(bool))
        grouped = frame.groupby(keys, sort=True)
        # Nearly every window holds a single sign-in, where the distinct count is the count of values: the
        # distinct values are counted only in the windows holding more (SF10: 1.93M sign-ins in 1.93M
        # windows; counting distinct values in every window took a third of the detector's time).
        out = grouped.agg(
            events=("event_id", "size"),
            failures=("failed", "sum"),
            distinct_accounts=("account_id", "count"),
            distinct_sources=(other, "count"),
        )
        shared = grouped["event_id"].transform("size").to_numpy() > 1
        if shared.any():
            distinct = (
                frame[shared]
                .groupby(keys, sort=True)
                .agg(distinct_accounts=("account_id", "nunique"), distinct_sources=(other, "nunique"))
            )
            out.loc[distinct.index, ["distinct_accounts", "distinct_sources"]] = distinct.to_numpy()
        out["rows_returned"] = np.nan
        out["exports"] = np.nan
    else:
        frame = frame.assign(is_export=frame["access_action"] == "export")
        out = frame.groupby(keys, sort=True).agg(
            events=("event_id", "size"),
            rows_returned=("rows_returned", "sum"),
            exports=("is_export", "sum"),
            distinct_sources=("table_name", "nunique"),
        )
        out["failures"] = np.nan
        out["distinct_accounts"] = 1.0
        out["log_rows"] = np.log1p(out["rows_returned"].astype(float))
    return out.reset_index().rename(columns={detector.source_column: "source"})


def robust_z(values: pd.Series, groups: pd.Series | None = None) -> pd.Series:
    """``(x - median) / max(1.4826 * MAD, 1)``, over all values or within each group."""
    values = values.astype(float)
    if groups is None:
        median = values.median()
        mad = (values - median).abs().median()
        return (values - median) / max(MAD_TO_SIGMA * mad, SCALE_FLOOR)
    median = values.groupby(groups).transform("median")
    mad = (values - median).abs().groupby(groups).transform("median")
    return (values - median) / np.maximum(MAD_TO_SIGMA * mad, SCALE_FLOOR)


def _alert_id(detector: str, source: str, window_start: pd.Timestamp) -> str:
    digest = hashlib.sha256(f"{detector}|{source}|{window_start.isoformat()}".encode()).hexdigest()
    return f"AL-{digest[:16]}"


def _severity(score: np.ndarray, threshold: float) -> np.ndarray:
    return np.select([score >= 3 * threshold, score >= 1.5 * threshold], ["high", "medium"], "low")


def _events_of(detector: Detector, logins: pd.DataFrame, accesses: pd.DataFrame) -> pd.DataFrame:
    return logins if detector.event_log == "login_events" else accesses


def _scored(windows: pd.DataFrame, detector: Detector) -> pd.DataFrame:
    groups = windows["source"] if detector.per_source_baseline else None
    for feature in detector.features:
        windows[f"z_{feature}"] = robust_z(windows[feature], groups)
    windows["score"] = windows[[f"z_{f}" for f in detector.features]].max(axis=1)
    return windows


def score_windows(logins: pd.DataFrame, accesses: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per detector, its (source, hour) windows with their features and z-scores (``z_<feature>``, ``score``)."""
    return {d.name: _scored(_windows(_events_of(d, logins, accesses), d), d) for d in DETECTORS}


def _in_windows(frame: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    """Rows of ``frame`` (``source``, ``window_start``) whose window is one of ``keys``': the source is
    filtered first, so only the few rows of the keys' sources are matched on both columns."""
    mask = np.zeros(len(frame), dtype=bool)
    same_source = np.flatnonzero(frame["source"].isin(keys["source"]).to_numpy())
    if len(same_source):
        candidates = frame.iloc[same_source][["source", "window_start"]]
        matched = candidates.merge(keys.drop_duplicates(), how="left", indicator=True)["_merge"].eq("both")
        mask[same_source[matched.to_numpy()]] = True
    return mask


def score_windows_with(
    scored: dict[str, pd.DataFrame],
    logins: pd.DataFrame,
    accesses: pd.DataFrame,
    extra_logins: pd.DataFrame,
    extra_accesses: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    """``score_windows`` of the events and ``extra_*`` events together, from ``scored`` (the events' own):
    only the windows the extra events fall in are counted again, from their events old and new; then every
    window is scored again, since the baselines take the changed windows in. The same frames as scoring the
    concatenated events (up to row order), at a fraction of the cost: counting the windows is most of the
    detector's time, and the canaries fall in a few dozen."""
    out = {}
    for detector in DETECTORS:
        events, extra = _events_of(detector, logins, accesses), _events_of(detector, extra_logins, extra_accesses)
        windows = scored[detector.name]
        touched = _keyed(extra, detector)[["source", "window_start"]]
        # The old events of the touched windows: those of the touched sources, then of the touched hours.
        old = events[events[detector.source_column].isin(touched["source"])]
        old = old[_in_windows(_keyed(old, detector), touched)]
        recounted = _windows(pd.concat([old, extra], ignore_index=True), detector)
        kept = windows.loc[~_in_windows(windows, touched), recounted.columns]
        out[detector.name] = _scored(pd.concat([kept, recounted], ignore_index=True), detector)
    return out


def _flagged(windows: pd.DataFrame, params: DetectorParams) -> np.ndarray:
    return ((windows["score"] >= params.z_threshold) & (windows["events"] >= params.min_events)).to_numpy()


def detect(
    logins: pd.DataFrame,
    accesses: pd.DataFrame,
    params: DetectorParams,
    scored: dict[str, pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Run every detector; returns (alerts, alert_events, figures).

    ``alerts``: one row per flagged (detector, source, hour) with its counts, score, severity and evidence
    (JSON: the features, their z-scores and the baseline they were measured against). ``alert_events``: the
    ids of the events behind each alert (``alert_id``, ``event_log``, ``event_id``), for the investigation.
    ``figures``: windows scored and flagged per detector, and the share of windows flagged. ``scored``: the
    events' ``score_windows``, when the caller has it already.
    """
    scored = score_windows(logins, accesses) if scored is None else scored
    frames, figures = [], {}
    windows_total = flagged_total = 0
    for detector in DETECTORS:
        windows = scored[detector.name]
        flagged = windows[_flagged(windows, params)].copy()
        figures[f"{detector.name}_windows"] = float(len(windows))
        figures[f"{detector.name}_alerts"] = float(len(flagged))
        windows_total += len(windows)
        flagged_total += len(flagged)
        if flagged.empty:
            continue
        flagged["detector"] = detector.name
        flagged["event_log"] = detector.event_log
        flagged["source_kind"] = detector.source_kind
        flagged["window_end"] = flagged["window_start"] + pd.Timedelta(hours=1)
        flagged["severity"] = _severity(flagged["score"].to_numpy(), params.z_threshold)
        flagged["evidence"] = [
            json.dumps(
                {
                    "features": {f: _plain(row[f]) for f in detector.features},
                    "z_scores": {f: round(float(row[f"z_{f}"]), 2) for f in detector.features},
                    "baseline": "this account's own hours" if detector.per_source_baseline else "every source-hour",
                    "events": int(row["events"]),
                },
                sort_keys=True,
            )
            for _, row in flagged.iterrows()
        ]
        flagged["alert_id"] = [
            _alert_id(detector.name, s, w) for s, w in zip(flagged["source"], flagged["window_start"], strict=True)
        ]
        frames.append(flagged)
    alerts = (
        pd.concat(frames, ignore_index=True)[ALERT_COLUMNS]
        if frames
        else pd.DataFrame({c: pd.Series(dtype="object") for c in ALERT_COLUMNS})
    )
    alerts = alerts.sort_values(["window_start", "detector", "source"]).reset_index(drop=True)
    for column in ("events", "failures", "distinct_accounts", "distinct_sources", "rows_returned", "exports"):
        alerts[column] = pd.to_numeric(alerts[column]).astype("Int64")
    alerts["score"] = alerts["score"].astype(float).round(2)
    figures["windows"] = float(windows_total)
    figures["alerts"] = float(flagged_total)
    figures["alert_share"] = flagged_total / windows_total if windows_total else 0.0
    for severity in ("high", "medium", "low"):
        figures[f"alerts_{severity}"] = float((alerts["severity"] == severity).sum())
    return alerts, _alert_events(alerts, logins, accesses), figures


def _plain(value: object) -> float | int | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    number = float(value)
    return int(number) if number.is_integer() else round(number, 3)


def _alert_events(alerts: pd.DataFrame, logins: pd.DataFrame, accesses: pd.DataFrame) -> pd.DataFrame:
    parts = []
    by_detector = {d.name: d for d in DETECTORS}
    for name, group in alerts.groupby("detector"):
        detector = by_detector[name]
        events = _events_of(detector, logins, accesses)
        # The alerted sources' events only: flooring every event's time to its hour cost a second at SF10.
        events = events[events[detector.source_column].isin(group["source"])]
        matched = _keyed(events, detector).merge(
            group[["alert_id", "source", "window_start", "event_log"]], on=["source", "window_start"]
        )
        parts.append(matched[["alert_id", "event_log", "event_id"]])
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in ("alert_id", "event_log", "event_id")})
    return pd.concat(parts, ignore_index=True).sort_values(["alert_id", "event_id"]).reset_index(drop=True)


def inject_canaries(
    logins: pd.DataFrame, accesses: pd.DataFrame, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, str]]]:
    """Copies of the events with the synthetic attacks of :func:`canary_events` added; returns (logins,
    accesses, canaries)."""
    extra_logins, extra_accesses, canaries = canary_events(logins, accesses, seed)
    return (
        pd.concat([logins, extra_logins], ignore_index=True),
        pd.concat([accesses, extra_accesses], ignore_index=True),
        canaries,
    )


def canary_events(
    logins: pd.DataFrame, accesses: pd.DataFrame, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, str]]]:
    """Synthetic attacks to add to the events; returns (sign-in attempts, data accesses, canaries), each
    canary the (detector, source) that must be flagged.

    Two credential-stuffing bursts (one address token trying 30 and 60 random accounts within an hour, 95%
    failing: smaller than a real burst, so the check has margin) and one night-time bulk export (12 exports of
    100k-300k customer rows by one staff account). The address tokens are new; the accounts the bursts try and
    the staff account are real, so their windows of those hours take the canary events in (the baselines move
    by a few windows).
    """
    rng = np.random.default_rng(seed)
    accounts = np.asarray(logins["account_id"].unique())  # first-seen order, as drop_duplicates, faster
    start = pd.to_datetime(logins["event_at"]).min().floor("D") + pd.Timedelta(days=1)
    frames, canaries = [], []
    for k, size in enumerate((30, 60)):
        source = f"{CANARY_PREFIX}ip-{k}"
        at = start + pd.Timedelta(hours=3 + 7 * k) + pd.to_timedelta(np.sort(rng.integers(0, 3600, size)), "s")
        frames.append(
            pd.DataFrame(
                {
                    "event_id": [f"{CANARY_PREFIX}LG{k}-{i}" for i in range(size)],
                    "account_id": rng.choice(accounts, size),
                    "ip_address_token": source,
                    "event_at": at,
                    "is_successful": rng.random(size) < 0.05,
                }
            )
        )
        canaries.append(("login_ip_hour", source))
    staff = accesses["account_id"].drop_duplicates().sort_values().to_numpy()
    insider = staff[int(rng.integers(0, len(staff)))] if len(staff) else f"{CANARY_PREFIX}staff"
    n = 12
    bulk = pd.DataFrame(
        {
            "event_id": [f"{CANARY_PREFIX}DA-{i}" for i in range(n)],
            "account_id": insider,
            "event_at": start + pd.Timedelta(hours=2) + pd.to_timedelta(np.sort(rng.integers(0, 3600, n)), "s"),
            "table_name": "staging.stg_crm__customers",
            "rows_returned": rng.integers(100_000, 300_000, n),
            "access_action": "export",
        }
    )
    canaries.append(("data_access_account_hour", insider))
    return pd.concat(frames, ignore_index=True), bulk, canaries


def canary_recall(
    logins: pd.DataFrame,
    accesses: pd.DataFrame,
    params: DetectorParams,
    seed: int,
    scored: dict[str, pd.DataFrame] | None = None,
) -> float:
    """Share of the canaries of :func:`inject_canaries` that the detector flags: a canary counts when a
    flagged window holds one of its events. ``scored``: the events' own ``score_windows``, when the caller has
    it already; the canaries' windows are counted on top of it (:func:`score_windows_with`)."""
    extra_logins, extra_accesses, canaries = canary_events(logins, accesses, seed)
    scored = score_windows(logins, accesses) if scored is None else scored
    with_canaries = score_windows_with(scored, logins, accesses, extra_logins, extra_accesses)
    flagged = set()
    for detector in DETECTORS:
        touched = _keyed(_events_of(detector, extra_logins, extra_accesses), detector)[["source", "window_start"]]
        windows = with_canaries[detector.name]
        hit = windows[_flagged(windows, params) & _in_windows(windows, touched)]
        flagged |= {(detector.name, source) for source in hit["source"]}
    return sum(canary in flagged for canary in canaries) / len(canaries)


def monitoring_passes(metrics: dict[str, float], bars) -> bool:  # noqa: ANN001 - futuremart.settings.AiServiceBars
    """Every canary flagged (to the bar) and no flood of alerts."""
    return metrics["canary_recall"] >= bars.canary_recall and metrics["alert_share"] <= bars.max_alert_share


def evaluate_alerts(alerts: pd.DataFrame, alert_events: pd.DataFrame, planted: pd.DataFrame) -> dict[str, float]:
    """Recall and precision against planted attacks (``planted``: ``event_id``, ``attack_id``). For the
    benchmark and tests, which hold the answer key.

    An alert is a true positive when at least one of its events is a planted attack event (its source sent
    attack traffic in its hour); ``precision`` = true-positive alerts / alerts. ``attack_recall`` = planted
    attacks with at least one true-positive alert / planted attacks; ``event_recall`` = planted events inside
    some alert / planted events.
    """
    planted_ids = planted.set_index("event_id")["attack_id"]
    hits = alert_events[alert_events["event_id"].isin(planted_ids.index)]
    true_alerts = set(hits["alert_id"])
    attacks_found = set(planted_ids.reindex(hits["event_id"]).dropna())
    return {
        "alerts": float(len(alerts)),
        "true_positive_alerts": float(len(true_alerts)),
        "precision": len(true_alerts) / len(alerts) if len(alerts) else 0.0,
        "attack_recall": len(attacks_found) / planted_ids.nunique() if len(planted_ids) else 0.0,
        "event_recall": hits["event_id"].nunique() / len(planted_ids) if len(planted_ids) else 0.0,
        "planted_attacks": float(planted_ids.nunique()),
    }
