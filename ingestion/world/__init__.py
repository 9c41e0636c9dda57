"""The synthetic FutureMart retailer: vectorized generation of the source systems' data."""

from ingestion.world.generate import World, generate_world

# Bump when the generator's output changes for the same settings: a data home landed by another version
# is refused instead of mixed with the new extracts.
GENERATOR_VERSION = 11

__all__ = ["GENERATOR_VERSION", "World", "generate_world"]
