"""The dbt project as Dagster sees it.

The manifest is prepared by ``make setup`` (``dbt parse``), never at import: dagster-dbt's
``prepare_if_dev`` would look for ``dbt`` on PATH, which an un-activated venv lacks, and a code location
should load without compiling anything. After editing models under ``make dev``, run ``make manifest`` and
reload the code location.
"""

from dagster_dbt import DbtProject

from futuremart.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
