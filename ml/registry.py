"""Versioned model artifacts and the warehouse tables that hold predictions and the model registry.

An artifact lives in ``<models_dir>/<model>/<version>/``: ``model.joblib`` (the fitted object) and
``metadata.json`` (features, training window, data version, metrics, parameters). The version is the UTC
training time plus the data version, so retraining on the same data gives a new, comparable version. Every
trained model also gets a row in ``ml.model_registry``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
import joblib
import pandas as pd

SCHEMA = "ml"


@dataclass(frozen=True)
class ModelVersion:
    """What the registry records about one trained model."""

    model_name: str
    version: str
    trained_at: str
    data_version: str
    training_window_start: str
    training_window_end: str
    features: list[str]
    metrics: dict[str, float]
    params: dict[str, Any]
    artifact_path: str


def save_model(
    models_dir: Path,
    model_name: str,
    model: object,
    *,
    data_version: str,
    training_window: tuple[str, str],
    features: list[str],
    metrics: dict[str, float],
    params: dict[str, Any] | None = None,
    trained_at: dt.datetime | None = None,
) -> ModelVersion:
    """Write the artifact and its metadata JSON; return the registry record."""
    trained_at = trained_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    version = f"{trained_at:%Y%m%dT%H%M%S}-{data_version[:8]}"
    folder = Path(models_dir) / model_name / version
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, folder / "model.joblib")
    record = ModelVersion(
        model_name=model_name,
        version=version,
        trained_at=trained_at.isoformat(timespec="seconds"),
        data_version=data_version,
        training_window_start=training_window[0],
        training_window_end=training_window[1],
        features=list(features),
        metrics={k: float(v) for k, v in metrics.items()},
        params={k: v if isinstance(v, str | int | float | bool | None) else str(v) for k, v in (params or {}).items()},
        artifact_path=str(folder / "model.joblib"),
    )
    (folder / "metadata.json").write_text(json.dumps(asdict(record), indent=2, sort_keys=True))
    return record


def load_model(artifact_path: str | Path) -> object:
    """The fitted object saved by :func:`save_model`."""
    return joblib.load(artifact_path)


def register_model(con: duckdb.DuckDBPyConnection, record: ModelVersion) -> None:
    """Append ``record`` to ``ml.model_registry`` (created when missing)."""
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(
        f"""
        create table if not exists {SCHEMA}.model_registry (
            model_name varchar not null, version varchar not null, trained_at timestamp not null,
            data_version varchar not null, training_window_start date, training_window_end date,
            features json, metrics json, params json, artifact_path varchar,
            primary key (model_name, version)
        )
        """
    )
    con.execute(
        f"insert or replace into {SCHEMA}.model_registry values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            record.model_name,
            record.version,
            record.trained_at,
            record.data_version,
            record.training_window_start,
            record.training_window_end,
            json.dumps(record.features),
            json.dumps(record.metrics),
            json.dumps(record.params),
            record.artifact_path,
        ],
    )


def write_table(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame, schema: str = SCHEMA) -> int:
    """Replace ``<schema>.<name>`` (``ml`` by default) with ``frame`` in one transaction; returns the row count."""
    con.execute(f"create schema if not exists {schema}")
    con.register("_ml_frame", frame)
    try:
        con.execute("begin transaction")
        con.execute(f"create or replace table {schema}.{name} as select * from _ml_frame")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_ml_frame")
    return len(frame)
