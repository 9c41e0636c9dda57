"""One module per concern of the code location; ``orchestration.definitions`` assembles them."""
