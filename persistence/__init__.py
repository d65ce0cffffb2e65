"""PostgreSQL read model and stores: engine, models, migrations and typed queries."""
