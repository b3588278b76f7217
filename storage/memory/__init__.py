"""The in-memory twin of the store: passes the storage contract, for fast use-case tests."""
