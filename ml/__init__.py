"""Machine learning on the warehouse marts: demand forecast, pricing and customer segmentation.

Plain functions, no Dagster: ``orchestration/defs/ml.py`` wraps them as assets and checks.
"""
