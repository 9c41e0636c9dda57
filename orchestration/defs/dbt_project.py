"""The dbt project as Dagster sees it. Kept in its own module so setup can prepare the manifest:
``dagster-dbt project prepare-and-package --file orchestration/defs/dbt_project.py`` (``make setup``)."""

from dagster_dbt import DbtProject

from futuremart.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()
