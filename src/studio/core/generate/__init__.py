"""Generators: from an AppModel to the schema, policies and seed SQL, and to client code."""
