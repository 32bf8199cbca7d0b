"""Schema engine: introspect a database into a Catalog, diff two catalogs into a Plan, render it."""
