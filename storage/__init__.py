"""Storage: the only package that imports aiosqlite.

`storage.ports` holds the repository interfaces and records the rest of the code uses;
`storage.sqlite` implements them on SQLite. A PostgreSQL backend would implement the same
ports and pass the same contract tests (tests/test_storage_contract.py).
"""
