"""The PostgreSQL backend: storage.sql.Database over psycopg 3, and its migrations.

The only package that imports psycopg (tools/import_rules.py). Repositories do not know
it is here: they talk to `storage.sql.Database` in the portable dialect.
"""
