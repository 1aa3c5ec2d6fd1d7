"""Database layer: SQLModel tables, the engine and migrations."""
