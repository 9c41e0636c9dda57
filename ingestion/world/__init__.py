"""The synthetic FutureMart retailer: vectorized generation of the source systems' data."""

from ingestion.world.generate import World, generate_world

__all__ = ["World", "generate_world"]
