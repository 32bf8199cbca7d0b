"""Round trips of the schema engine: state A migrated to state B must equal state B."""
