"""The builder's wizard: connect -> generate -> deploy."""
