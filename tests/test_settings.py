import datetime as dt
from pathlib import Path

import pytest

from futuremart.settings import PROJECT_ROOT, Settings, SettingsError


def test_defaults_put_everything_under_data():
    s = Settings.from_env({})
    assert s.home == PROJECT_ROOT / "data"
    assert s.warehouse_path == PROJECT_ROOT / "data" / "warehouse" / "futuremart.duckdb"
    assert s.landing_dir == PROJECT_ROOT / "data" / "landing"
    assert s.truth_dir == PROJECT_ROOT / "data" / "truth"
    assert s.reports_dir == PROJECT_ROOT / "data" / "reports"
    assert s.published_dir == PROJECT_ROOT / "data" / "published"
    assert (s.seed, s.scale_factor) == (42, 1.0)


def test_environment_overrides_and_dbt_sees_the_same_path(tmp_path: Path):
    s = Settings.from_env(
        {
            "FUTUREMART_HOME": str(tmp_path),
            "FUTUREMART_SEED": "9",
            "FUTUREMART_SCALE": "0.5",
            "FUTUREMART_START_DATE": "2023-02-01",
            "FUTUREMART_END_DATE": "2023-03-01",
        }
    )
    assert s.home == tmp_path and s.seed == 9 and s.scale_factor == 0.5
    assert (s.start_date, s.end_date, s.n_days) == (dt.date(2023, 2, 1), dt.date(2023, 3, 1), 29)
    assert s.dbt_env()["FUTUREMART_WAREHOUSE_PATH"] == str(tmp_path / "warehouse" / "futuremart.duckdb")


def test_spark_engine_paths_live_under_the_data_home_and_reach_dbt(tmp_path: Path):
    s = Settings.from_env({"FUTUREMART_HOME": str(tmp_path), "FUTUREMART_ENGINE": "Spark",
                           "FUTUREMART_SPARK_MASTER": "spark://head:7077"})  # fmt: skip
    assert (s.engine, s.spark_master) == ("spark", "spark://head:7077")
    assert Settings.from_env({}).engine == "duckdb"
    env = s.dbt_env()
    assert env["FUTUREMART_SPARK_MASTER"] == "spark://head:7077"
    for variable, path in (
        ("FUTUREMART_SPARK_WAREHOUSE_DIR", s.spark_warehouse_dir),
        ("FUTUREMART_SPARK_METASTORE_DIR", s.spark_metastore_dir),
        ("FUTUREMART_RAW_PARQUET_DIR", s.raw_parquet_dir),
    ):
        assert env[variable] == str(path) and path.is_relative_to(tmp_path)


def test_relative_home_is_taken_from_the_project_root():
    assert Settings.from_env({"FUTUREMART_HOME": "elsewhere"}).home == PROJECT_ROOT / "elsewhere"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FUTUREMART_SCALE": "big"}, "FUTUREMART_SCALE='big' is not valid"),
        ({"FUTUREMART_SCALE": "0"}, "FUTUREMART_SCALE must be a positive number"),
        ({"FUTUREMART_SEED": "-1"}, "FUTUREMART_SEED must be a non-negative integer"),
        ({"FUTUREMART_START_DATE": "01/02/2024"}, "expected YYYY-MM-DD"),
        ({"FUTUREMART_START_DATE": "2024-05-01", "FUTUREMART_END_DATE": "2024-04-01"}, "is before"),
        ({"FUTUREMART_DUCKDB_MEMORY_LIMIT": "80%"}, "FUTUREMART_DUCKDB_MEMORY_LIMIT must be an amount"),
        ({"FUTUREMART_ENGINE": "postgres"}, "FUTUREMART_ENGINE must be one of duckdb, spark"),
    ],
)
def test_bad_settings_fail_with_a_message_naming_the_variable(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_holiday_seed_is_the_generators_calendar():
    import pandas as pd

    from futuremart.settings import SEEDS_DIR
    from ingestion.world.calendar import holidays

    seed = pd.read_csv(SEEDS_DIR / "holidays.csv", parse_dates=["holiday_date"])
    generated = holidays(list(range(2020, 2031)))
    assert seed["holiday_date"].dt.date.tolist() == generated["date"].tolist()
    assert seed["holiday_name"].tolist() == generated["holiday_name"].tolist()
    assert seed["is_public_holiday"].tolist() == generated["is_public_holiday"].tolist()


def test_duckdb_memory_limit_reaches_the_warehouse_connections_and_dbt(tmp_path: Path):
    from orchestration.resources import FutureMartResource

    assert Settings.from_env({}).duckdb_memory_limit == "8GiB"
    settings = Settings.from_env({"FUTUREMART_HOME": str(tmp_path), "FUTUREMART_DUCKDB_MEMORY_LIMIT": "1500MiB"})
    assert settings.dbt_env()["FUTUREMART_DUCKDB_MEMORY_LIMIT"] == "1500MiB"  # profiles.yml reads it
    resource = FutureMartResource(home=str(tmp_path))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FUTUREMART_DUCKDB_MEMORY_LIMIT", "1500MiB")
        for read_only in (False, True):
            with resource.warehouse(read_only=read_only) as con:
                assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "1.4 GiB"
