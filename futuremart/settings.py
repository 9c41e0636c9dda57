"""The one settings object of the platform, read from the environment with documented defaults.

Every path the platform touches derives from ``FUTUREMART_HOME``; nothing else in the code base reads the
environment. dbt reads the same warehouse path through ``FUTUREMART_WAREHOUSE_PATH``, which
:meth:`Settings.dbt_env` exports for every dbt invocation, so dbt and Python never disagree.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# How the pipeline builds the dbt project (Dagster's invocations, the erasure's rebuild, the direct baseline):
# dbt's unit tests check model logic on fixed inputs, so they belong to CI (tests/test_governance.py runs
# them), not to every production build, as dbt's docs advise; nightly they cost seconds and check nothing new.
DBT_BUILD_ARGS = ("build", "--exclude-resource-type", "unit_test")
SEEDS_DIR = PROJECT_ROOT / "seeds"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations" / "suites"
CONTRACTS_DIR = PROJECT_ROOT / "ingestion" / "contracts"
MIN_PII_KEY_CHARS = 16
# An amount of memory as DuckDB's memory_limit takes it (no percentage: DuckDB refuses one).
DUCKDB_MEMORY = re.compile(r"\d+(\.\d+)? ?([KMGT]i?B)")


@dataclass(frozen=True)
class MlBars:
    """Bars the model checks hold each metric to.

    ``wape_gain``: the demand forecast's WAPE must beat the seasonal-naive baseline's by at least this share.
    ``elasticity_ci``: the median (over categories) 95% confidence half-width of an elasticity, relative to
    the estimate, must be at most this (and every estimate negative), so the estimate is precise enough to
    price on. ``silhouette``: the customer segments' silhouette score must be at least this.
    ``reco_precision_gain``: the recommendations' precision@10 on the held-out last weeks must beat the
    popularity baseline's by at least this share.
    """

    wape_gain: float
    elasticity_ci: float
    silhouette: float
    reco_precision_gain: float


# ``full``: the acceptance bars at scale 1 (the models measured 0.31, 0.08, 0.20 there; with shuffled inputs
# or a wrong target 0.05, 3.1, -0.01). ``small``: a world at scale 0.02 holds a few hundred order lines
# per category, too few for tight estimates; these bars still fail a model fed shuffled features or prices.
ML_BARS = {
    "full": MlBars(wape_gain=0.20, elasticity_ci=0.15, silhouette=0.10, reco_precision_gain=0.30),
    # reco_precision_gain full: the 0.30. The world plants each customer's favourite brands and everyday
    # products (ingestion.world.taste) and the model reads them from behaviour (brand lift, re-buys in
    # repeatable categories).
    # reco_precision_gain small: at scale 0.02 (400 customers, ~120 evaluated) the taste groups are too thin
    # and a brand holds one or two products; the model measured +0.06 against popularity on the world alone.
    "small": MlBars(wape_gain=0.12, elasticity_ci=1.0, silhouette=0.07, reco_precision_gain=-0.35),
}
SMALL_WORLD_SCALE = 0.5
# Engines dbt builds the warehouse on (FUTUREMART_ENGINE).
ENGINES = ("duckdb", "spark")
# Share of the shop and CRM rows landed dirty unless FUTUREMART_DIRT_RATE says otherwise (0 turns dirt off).
DEFAULT_DIRT_RATE = 0.002


@dataclass(frozen=True)
class AiServiceBars:
    """Bars the blocking checks of the AI services hold their metrics to (no answer key is read in the
    pipeline: each bar is on a signal the warehouse itself carries).

    ``rating_agreement``: share of clearly rated reviews (4-5 stars or 1-2 stars) whose text the sentiment
    scorer labels the same way (positive or negative). ``intent_coverage``: share of support conversations
    given one of the known intents (not ``other``). ``canary_recall``: share of the synthetic attack bursts
    injected into a copy of the security events that the detector flags. ``max_alert_share``: largest share
    of (source, hour) windows the detector may flag, a guard against an alert flood.
    """

    rating_agreement: float
    intent_coverage: float
    canary_recall: float
    max_alert_share: float


# ``full``: scale >= 0.5 (measured at scale 1, seed 42: rating agreement 0.977, intent coverage 1.0, canaries
# 1.0, alert share 0.00006). ``small``: a scale-0.02 world has ~250 reviews and ~60 conversations, so the agreement bars
# are looser; a scorer with flipped or random polarity (agreement ~0.0 or ~0.5) still fails both.
AI_SERVICE_BARS = {
    "full": AiServiceBars(rating_agreement=0.85, intent_coverage=0.95, canary_recall=1.0, max_alert_share=0.001),
    "small": AiServiceBars(rating_agreement=0.75, intent_coverage=0.85, canary_recall=1.0, max_alert_share=0.005),
}


class SettingsError(ValueError):
    """A setting has a value the platform cannot use; the message names the variable and the fix."""


@dataclass(frozen=True)
class Settings:
    """Platform configuration.

    Environment variables (all optional):

    ============================ ==================== ===================================================
    variable                     default              meaning
    ============================ ==================== ===================================================
    ``FUTUREMART_HOME``          ``./data``           data home; relative paths are taken from the
                                                      project root (the folder holding pyproject.toml)
    ``FUTUREMART_SEED``          ``42``               seed of the synthetic world (with the scale factor,
                                                      it fully determines the generated data)
    ``FUTUREMART_SCALE``         ``1``                scale factor: 1 ≈ 20k customers, 2k products, one
                                                      year of orders; tests use 0.02
    ``FUTUREMART_START_DATE``    ``2024-01-01``       first day of generated business activity
    ``FUTUREMART_END_DATE``      ``2024-12-31``       last day of generated business activity (inclusive)
    ``FUTUREMART_DBT_THREADS``   ``2``                dbt threads (one dbt process: one DuckDB writer)
    ``FUTUREMART_DIRT_RATE``     ``0.002``            share of rows of the shop and CRM extracts made dirty
                                                      (duplicates, malformed, missing, late; with any dirt a
                                                      few files also change schema); 0 is clean. The loader
                                                      quarantines them and dbt's tests explain the orphans
    ``FUTUREMART_LATE_DAYS``     ``0``                days after the end date the sources still export
                                                      (reviews, returns, deliveries of the last orders):
                                                      the daily partitions run to end date + late days
    ``FUTUREMART_LANDING_THREADS`` ``2``              threads that serialize, compress and write landing
                                                      files (the bytes do not depend on it)
    ``FUTUREMART_PII_KEY``       (unset)              secret key of the pseudonymization tokens (HMAC-SHA256
                                                      of every email, name, phone, street and IP address);
                                                      at least 16 characters
    ``FUTUREMART_PII_KEY_FILE``  (unset)              file holding that key (a mounted secret); it wins
                                                      over ``FUTUREMART_PII_KEY``. With neither, a fixed
                                                      development key is used and a warning logged: tokens
                                                      are then guessable, never run production that way
    ``FUTUREMART_ML_BARS``       ``auto``             quality bars of the model checks: ``full`` (the
                                                      acceptance bars), ``small`` (looser, for worlds too
                                                      small to estimate much) or ``auto`` (``small``
                                                      below scale 0.5, else ``full``); see ``MlBars``;
                                                      the AI services' checks follow the same level
                                                      (``AiServiceBars``)
    ``FUTUREMART_ML_MAX_PRICE``  ``0.15``             pricing guard-rail: largest relative move from
    ``_CHANGE``                                       the current price
    ``FUTUREMART_ML_MIN_MARGIN`` ``0.10``             pricing guard-rail: price >= unit cost × (1 + this)
    ``FUTUREMART_ML_COMPETITOR`` ``0.10``             pricing guard-rail: price <= competitor price ×
    ``_CAP``                                          (1 + this)
    ``FUTUREMART_UPLIFT``        ``2000``             bootstrap resamples of the campaign uplift interval
    ``_RESAMPLES``                                    (ml/campaign_uplift.py); at least 200
    ``FUTUREMART_VAULT_KEY``     (unset)              encryption key of the pii vault file
                                                      (``<home>/vault/pii.duckdb``, DuckDB AES encryption);
                                                      at least 16 characters
    ``FUTUREMART_VAULT_KEY_FILE`` (unset)             file holding that key; it wins over the variable.
                                                      With neither, a public development key is used and
                                                      a warning logged
    ``FUTUREMART_CLICKSTREAM_RETENTION_DAYS`` ``400``   days of clickstream kept (raw and fct_web_events) by
                                                      ``futuremart purge``, counted back from the last day
    ``FUTUREMART_SECURITY_RETENTION_DAYS`` ``400``      days of sign-in and data-access events kept
    ``FUTUREMART_SENTIMENT_NEUTRAL_BAND`` ``0.05``      compound sentiment scores within +-this are labelled
                                                      neutral (VADER's own convention)
    ``FUTUREMART_SECURITY_ALERT_Z`` ``8``               robust z-score a (source, hour) window must reach to
                                                      raise a security alert
    ``FUTUREMART_SECURITY_ALERT_MIN_EVENTS`` ``10``     fewest events a window needs to raise an alert (a
                                                      few failed sign-ins of one person are not an attack)
    ``FUTUREMART_DUCKDB_MEMORY_LIMIT`` ``8GiB``        DuckDB's memory_limit for every warehouse connection
                                                      of the pipeline and dbt (a third of a 24 GiB machine;
                                                      DuckDB's own default, 80% of RAM, lets one build take
                                                      the machine). Beyond it DuckDB spills to disk or, for
                                                      what cannot spill, fails: results never change
    ``FUTUREMART_LOAD_CHUNK_ROWS`` ``500000``          rows the raw loader holds before it writes a chunk of
                                                      whole files (one transaction each): bounds the load's
                                                      memory at any scale
    ``FUTUREMART_GX_BATCH_ROWS`` ``250000``            rows Great Expectations validates at a time (a raw
                                                      suite cuts at whole landed days, so per-file keys
                                                      stay checked): bounds the checks' memory at any
                                                      scale; the verdict does not depend on it
    ``FUTUREMART_ENGINE``        ``duckdb``           engine dbt builds the warehouse on: ``duckdb`` (the
                                                      warehouse file) or ``spark`` (``futuremart run
                                                      --engine spark``: the raw layer exported to Parquet,
                                                      every model and test built on Spark too, then the
                                                      parity check against DuckDB; see futuremart/spark.py)
    ``FUTUREMART_SPARK_MASTER``  ``local[2]``         Spark master of the dbt ``spark`` target (session
                                                      method): ``local[N]`` or a cluster URL such as
                                                      ``spark://host:7077``
    ``FUTUREMART_SPARK_DRIVER``  ``4g``               memory of the Spark driver JVM (Spark's own default,
    ``_MEMORY``                                       1g, is too small for a local build at scale 1)
    ============================ ==================== ===================================================
    """

    home: Path = field(default_factory=lambda: PROJECT_ROOT / "data")
    seed: int = 42
    scale_factor: float = 1.0
    start_date: dt.date = dt.date(2024, 1, 1)
    end_date: dt.date = dt.date(2024, 12, 31)
    dbt_threads: int = 2
    # Small by default so every run exercises quarantine, rejected files and late rows end to end.
    dirt_rate: float = DEFAULT_DIRT_RATE
    late_days: int = 0
    landing_threads: int = 2
    # The key itself never appears in repr() or describe(): logs and Dagster metadata show only its source.
    pii_key: str | None = field(default=None, repr=False)
    pii_key_file: Path | None = None
    ml_bars_level: str = "auto"
    ml_max_price_change: float = 0.15
    ml_min_margin: float = 0.10
    ml_competitor_cap: float = 0.10
    uplift_resamples: int = 2000
    vault_key: str | None = field(default=None, repr=False)
    vault_key_file: Path | None = None
    clickstream_retention_days: int = 400
    security_retention_days: int = 400
    sentiment_neutral_band: float = 0.05
    security_alert_z: float = 8.0
    security_alert_min_events: int = 10
    duckdb_memory_limit: str = "8GiB"
    load_chunk_rows: int = 500_000
    gx_batch_rows: int = 250_000
    engine: str = "duckdb"
    spark_master: str = "local[2]"
    spark_driver_memory: str = "4g"

    def __post_init__(self) -> None:
        if self.scale_factor <= 0:
            raise SettingsError(
                f"FUTUREMART_SCALE must be a positive number, got {self.scale_factor!r} (try 1 or 0.02)."
            )
        if self.end_date < self.start_date:
            raise SettingsError(
                f"FUTUREMART_END_DATE ({self.end_date}) is before FUTUREMART_START_DATE ({self.start_date})."
            )
        if self.seed < 0:
            raise SettingsError(f"FUTUREMART_SEED must be a non-negative integer, got {self.seed}.")
        if not 0 <= self.dirt_rate <= 0.2:
            raise SettingsError(f"FUTUREMART_DIRT_RATE must be between 0 and 0.2, got {self.dirt_rate}.")
        if not 0 <= self.late_days <= 366:
            raise SettingsError(f"FUTUREMART_LATE_DAYS must be between 0 and 366, got {self.late_days}.")
        if self.dbt_threads < 1:
            raise SettingsError(f"FUTUREMART_DBT_THREADS must be at least 1, got {self.dbt_threads}.")
        if self.landing_threads < 1:
            raise SettingsError(f"FUTUREMART_LANDING_THREADS must be at least 1, got {self.landing_threads}.")
        if self.pii_key is not None and len(self.pii_key) < MIN_PII_KEY_CHARS:
            raise SettingsError(f"FUTUREMART_PII_KEY must be at least {MIN_PII_KEY_CHARS} characters long.")
        if self.uplift_resamples < 200:
            raise SettingsError(
                f"FUTUREMART_UPLIFT_RESAMPLES must be at least 200 (a 95% interval needs the tails), "
                f"got {self.uplift_resamples}."
            )
        if self.ml_bars_level not in ML_BARS and self.ml_bars_level != "auto":
            raise SettingsError(f"FUTUREMART_ML_BARS must be auto, full or small, got {self.ml_bars_level!r}.")
        if not 0 < self.ml_max_price_change < 1:
            raise SettingsError(
                f"FUTUREMART_ML_MAX_PRICE_CHANGE must be between 0 and 1, got {self.ml_max_price_change}."
            )
        if self.ml_min_margin < 0 or self.ml_competitor_cap < 0:
            raise SettingsError("FUTUREMART_ML_MIN_MARGIN and FUTUREMART_ML_COMPETITOR_CAP must not be negative.")
        if self.vault_key is not None and len(self.vault_key) < MIN_PII_KEY_CHARS:
            raise SettingsError(f"FUTUREMART_VAULT_KEY must be at least {MIN_PII_KEY_CHARS} characters long.")
        for name in ("clickstream_retention_days", "security_retention_days"):
            if getattr(self, name) < 1:
                raise SettingsError(f"FUTUREMART_{name.upper()} must be at least 1 day, got {getattr(self, name)}.")
        if not 0 <= self.sentiment_neutral_band < 1:
            raise SettingsError(
                f"FUTUREMART_SENTIMENT_NEUTRAL_BAND must be between 0 and 1, got {self.sentiment_neutral_band}."
            )
        if self.security_alert_z <= 0 or self.security_alert_min_events < 1:
            raise SettingsError(
                "FUTUREMART_SECURITY_ALERT_Z must be positive and FUTUREMART_SECURITY_ALERT_MIN_EVENTS at least 1."
            )
        if not DUCKDB_MEMORY.fullmatch(self.duckdb_memory_limit):
            raise SettingsError(
                f"FUTUREMART_DUCKDB_MEMORY_LIMIT must be an amount DuckDB reads, such as 8GiB or 2500MB, got "
                f"{self.duckdb_memory_limit!r}."
            )
        if self.load_chunk_rows < 1:
            raise SettingsError(f"FUTUREMART_LOAD_CHUNK_ROWS must be at least 1, got {self.load_chunk_rows}.")
        if self.gx_batch_rows < 1:
            raise SettingsError(f"FUTUREMART_GX_BATCH_ROWS must be at least 1, got {self.gx_batch_rows}.")
        if self.engine not in ENGINES:
            raise SettingsError(f"FUTUREMART_ENGINE must be one of {', '.join(ENGINES)}, got {self.engine!r}.")
        if not re.fullmatch(r"\d+[kmgt]", self.spark_driver_memory.lower()):
            raise SettingsError(
                f"FUTUREMART_SPARK_DRIVER_MEMORY must be an amount such as 4g or 2048m, "
                f"got {self.spark_driver_memory!r}."
            )
        if not self.spark_master.strip():
            raise SettingsError("FUTUREMART_SPARK_MASTER must not be empty (try local[2] or spark://host:7077).")
        object.__setattr__(self, "home", _absolute(Path(self.home)))
        if self.vault_key_file is not None:
            object.__setattr__(self, "vault_key_file", _absolute(Path(self.vault_key_file)))
        if self.pii_key_file is not None:
            object.__setattr__(self, "pii_key_file", _absolute(Path(self.pii_key_file)))

    # -- derived locations -------------------------------------------------------------------------
    @property
    def landing_dir(self) -> Path:
        """Landing zone: ``<home>/landing/<source_system>/<entity>/dt=YYYY-MM-DD/``."""
        return self.home / "landing"

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB warehouse file the pipeline builds."""
        return self.home / "warehouse" / "futuremart.duckdb"

    @property
    def vault_path(self) -> Path:
        """The encrypted pii vault: clear values behind the tokens (``futuremart.vault``)."""
        return self.home / "vault" / "pii.duckdb"

    @property
    def truth_dir(self) -> Path:
        """Ground truth planted by the generator."""
        return self.home / "truth"

    @property
    def reports_dir(self) -> Path:
        """Published reports and validation results."""
        return self.home / "reports"

    @property
    def published_dir(self) -> Path:
        """Read-only copies for readers (``analyst.duckdb``), swapped in atomically after a good build."""
        return self.home / "published"

    @property
    def raw_parquet_dir(self) -> Path:
        """The raw layer (and the load audit) as Parquet for Spark: ``<home>/raw_parquet/<schema>/<table>/``."""
        return self.home / "raw_parquet"

    @property
    def spark_warehouse_dir(self) -> Path:
        """Spark's ``spark.sql.warehouse.dir``: the Parquet files of every model Spark builds."""
        return self.home / "spark" / "warehouse"

    @property
    def spark_metastore_dir(self) -> Path:
        """Spark's embedded Derby metastore (one Spark process at a time)."""
        return self.home / "spark" / "metastore"

    @property
    def models_dir(self) -> Path:
        """Trained model artifacts: ``<home>/models/<model>/<version>/`` (joblib file + metadata JSON)."""
        return self.home / "models"

    @property
    def ml_bars(self) -> MlBars:
        """The bars the model checks hold the metrics to (``FUTUREMART_ML_BARS``)."""
        level = self.ml_bars_level
        if level == "auto":
            level = "small" if self.scale_factor < SMALL_WORLD_SCALE else "full"
        return ML_BARS[level]

    @property
    def ai_service_bars(self) -> AiServiceBars:
        """The bars of the AI services' checks, at the same level as the model bars (``FUTUREMART_ML_BARS``)."""
        level = self.ml_bars_level
        if level == "auto":
            level = "small" if self.scale_factor < SMALL_WORLD_SCALE else "full"
        return AI_SERVICE_BARS[level]

    @property
    def last_partition_date(self) -> dt.date:
        """Last daily partition: extracts keep arriving for ``late_days`` after the end date."""
        return self.end_date + dt.timedelta(days=self.late_days)

    @property
    def n_days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    @property
    def pii_key_source(self) -> str:
        """Where the pseudonymization key comes from: ``file``, ``env`` or ``development default``."""
        if self.pii_key_file is not None:
            return "file"
        return "env" if self.pii_key is not None else "development default"

    def read_pii_key(self) -> bytes | None:
        """The pseudonymization key as bytes, or ``None`` when none is configured (the caller then falls
        back to the development key, loudly: see ``futuremart.privacy``). A key file is read when asked, so
        a rotated secret is picked up by the next load; surrounding whitespace (a trailing newline) is
        ignored."""
        if self.pii_key_file is not None:
            try:
                key = self.pii_key_file.read_text(encoding="utf-8").strip()
            except OSError as err:
                raise SettingsError(
                    f"FUTUREMART_PII_KEY_FILE={self.pii_key_file} cannot be read ({err.strerror}): mount the "
                    "secret there or unset the variable."
                ) from None
            if len(key) < MIN_PII_KEY_CHARS:
                raise SettingsError(
                    f"the key in FUTUREMART_PII_KEY_FILE={self.pii_key_file} is shorter than {MIN_PII_KEY_CHARS} "
                    "characters."
                )
            return key.encode("utf-8")
        return self.pii_key.encode("utf-8") if self.pii_key is not None else None

    def read_vault_key(self) -> str | None:
        """The vault's encryption key, or ``None`` when none is configured (the caller then uses the
        development key, loudly: see ``futuremart.vault``). A key file is read when asked."""
        if self.vault_key_file is not None:
            try:
                key = self.vault_key_file.read_text(encoding="utf-8").strip()
            except OSError as err:
                raise SettingsError(
                    f"FUTUREMART_VAULT_KEY_FILE={self.vault_key_file} cannot be read ({err.strerror}): mount the "
                    "secret there or unset the variable."
                ) from None
            if len(key) < MIN_PII_KEY_CHARS:
                raise SettingsError(
                    f"the key in FUTUREMART_VAULT_KEY_FILE={self.vault_key_file} is shorter than "
                    f"{MIN_PII_KEY_CHARS} characters."
                )
            return key
        return self.vault_key

    def dbt_env(self) -> dict[str, str]:
        """Environment variables that ``dbt_project/profiles.yml`` reads."""
        return {
            "FUTUREMART_WAREHOUSE_PATH": str(self.warehouse_path),
            "FUTUREMART_DBT_THREADS": str(self.dbt_threads),
            "FUTUREMART_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "FUTUREMART_SPARK_MASTER": self.spark_master,
            "FUTUREMART_SPARK_DRIVER_MEMORY": self.spark_driver_memory,
            "FUTUREMART_SPARK_WAREHOUSE_DIR": str(self.spark_warehouse_dir),
            "FUTUREMART_SPARK_METASTORE_DIR": str(self.spark_metastore_dir),
            "FUTUREMART_RAW_PARQUET_DIR": str(self.raw_parquet_dir),
        }

    def duckdb_config(self) -> dict[str, str]:
        """Configuration of every warehouse connection (``duckdb.connect(..., config=...)``)."""
        return {"memory_limit": self.duckdb_memory_limit}

    def with_overrides(self, **overrides: object) -> Settings:
        """A copy with the given fields replaced (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``environ`` (default: the process environment)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if home := env.get("FUTUREMART_HOME"):
            values["home"] = Path(home)
        if seed := env.get("FUTUREMART_SEED"):
            values["seed"] = _parse(int, "FUTUREMART_SEED", seed, "a non-negative integer such as 42")
        if scale := env.get("FUTUREMART_SCALE"):
            values["scale_factor"] = _parse(float, "FUTUREMART_SCALE", scale, "a positive number such as 1")
        if start := env.get("FUTUREMART_START_DATE"):
            values["start_date"] = _parse(dt.date.fromisoformat, "FUTUREMART_START_DATE", start, "YYYY-MM-DD")
        if end := env.get("FUTUREMART_END_DATE"):
            values["end_date"] = _parse(dt.date.fromisoformat, "FUTUREMART_END_DATE", end, "YYYY-MM-DD")
        if threads := env.get("FUTUREMART_DBT_THREADS"):
            values["dbt_threads"] = _parse(int, "FUTUREMART_DBT_THREADS", threads, "an integer >= 1")
        if dirt := env.get("FUTUREMART_DIRT_RATE"):
            values["dirt_rate"] = _parse(float, "FUTUREMART_DIRT_RATE", dirt, "a share between 0 and 0.2")
        if late := env.get("FUTUREMART_LATE_DAYS"):
            values["late_days"] = _parse(int, "FUTUREMART_LATE_DAYS", late, "a number of days such as 31")
        if landing_threads := env.get("FUTUREMART_LANDING_THREADS"):
            values["landing_threads"] = _parse(int, "FUTUREMART_LANDING_THREADS", landing_threads, "an integer >= 1")
        if key := env.get("FUTUREMART_PII_KEY"):
            values["pii_key"] = key
        if key_file := env.get("FUTUREMART_PII_KEY_FILE"):
            values["pii_key_file"] = Path(key_file)
        if bars := env.get("FUTUREMART_ML_BARS"):
            values["ml_bars_level"] = bars.strip().lower()
        for name, attr in (
            ("FUTUREMART_ML_MAX_PRICE_CHANGE", "ml_max_price_change"),
            ("FUTUREMART_ML_MIN_MARGIN", "ml_min_margin"),
            ("FUTUREMART_ML_COMPETITOR_CAP", "ml_competitor_cap"),
        ):
            if raw := env.get(name):
                values[attr] = _parse(float, name, raw, "a share such as 0.15")
        for name in ("clickstream_retention_days", "security_retention_days"):
            if days := env.get(f"FUTUREMART_{name.upper()}"):
                values[name] = _parse(int, f"FUTUREMART_{name.upper()}", days, "a number of days such as 90")
        if band := env.get("FUTUREMART_SENTIMENT_NEUTRAL_BAND"):
            values["sentiment_neutral_band"] = _parse(
                float, "FUTUREMART_SENTIMENT_NEUTRAL_BAND", band, "a compound score such as 0.05"
            )
        if z := env.get("FUTUREMART_SECURITY_ALERT_Z"):
            values["security_alert_z"] = _parse(float, "FUTUREMART_SECURITY_ALERT_Z", z, "a positive number such as 8")
        if min_events := env.get("FUTUREMART_SECURITY_ALERT_MIN_EVENTS"):
            values["security_alert_min_events"] = _parse(
                int, "FUTUREMART_SECURITY_ALERT_MIN_EVENTS", min_events, "an integer >= 1"
            )
        if resamples := env.get("FUTUREMART_UPLIFT_RESAMPLES"):
            values["uplift_resamples"] = _parse(int, "FUTUREMART_UPLIFT_RESAMPLES", resamples, "an integer >= 200")
        if memory := env.get("FUTUREMART_DUCKDB_MEMORY_LIMIT"):
            values["duckdb_memory_limit"] = memory.strip()
        if chunk := env.get("FUTUREMART_LOAD_CHUNK_ROWS"):
            values["load_chunk_rows"] = _parse(int, "FUTUREMART_LOAD_CHUNK_ROWS", chunk, "an integer such as 500000")
        if gx_rows := env.get("FUTUREMART_GX_BATCH_ROWS"):
            values["gx_batch_rows"] = _parse(int, "FUTUREMART_GX_BATCH_ROWS", gx_rows, "an integer such as 250000")
        if engine := env.get("FUTUREMART_ENGINE"):
            values["engine"] = engine.strip().lower()
        if master := env.get("FUTUREMART_SPARK_MASTER"):
            values["spark_master"] = master.strip()
        if driver_memory := env.get("FUTUREMART_SPARK_DRIVER_MEMORY"):
            values["spark_driver_memory"] = driver_memory.strip()
        if vault_key := env.get("FUTUREMART_VAULT_KEY"):
            values["vault_key"] = vault_key
        if vault_key_file := env.get("FUTUREMART_VAULT_KEY_FILE"):
            values["vault_key_file"] = Path(vault_key_file)
        return cls(**values)  # type: ignore[arg-type]

    def describe(self) -> dict[str, str]:
        """Every setting and derived path, for logs and metadata."""
        out = {f.name: str(getattr(self, f.name)) for f in fields(self) if f.name not in ("pii_key", "vault_key")}
        out["pii_key_source"] = self.pii_key_source
        out.update(
            landing_dir=str(self.landing_dir),
            warehouse_path=str(self.warehouse_path),
            truth_dir=str(self.truth_dir),
            reports_dir=str(self.reports_dir),
            published_dir=str(self.published_dir),
            vault_path=str(self.vault_path),
            raw_parquet_dir=str(self.raw_parquet_dir),
            spark_warehouse_dir=str(self.spark_warehouse_dir),
        )
        return out


def _absolute(path: Path) -> Path:
    return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()


def _parse(convert, name: str, raw: str, expected: str):  # noqa: ANN001, ANN202 - tiny local helper
    try:
        return convert(raw.strip())
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not valid: expected {expected}.") from None
