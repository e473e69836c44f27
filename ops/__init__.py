"""Operations: the embedded PostgreSQL and Redis, backup, restore and the migration gates.

Settings import ``ops.runtime`` before Django is set up, so this package imports nothing.
"""
