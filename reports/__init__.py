"""Published HTML reports built from the marts and governance tables, one module per report.

Each module declares a :class:`reports.render.ReportSpec`; :data:`REPORTS` lists them in the order of the
index page. The Dagster assets (orchestration/defs/reports.py) and the tests use this list.
"""

from reports import customers, inventory, marketing, models, quality, sales
from reports.render import ReportSpec

REPORTS: tuple[ReportSpec, ...] = (
    sales.SPEC,
    inventory.SPEC,
    customers.SPEC,
    marketing.SPEC,
    models.SPEC,
    quality.SPEC,
)
