"""How a delivery can end without sending: shared by the engine and its helpers."""


class Skip(Exception):
    """Nothing to send any more (e.g. the check-in was completed); the row is closed."""
