"""How a delivery can end without sending: shared by the engine and its helpers."""


class Skip(Exception):
    """Nothing to send any more (e.g. the check-in was completed); the row is closed."""


class Hold(Exception):
    """Not yet: try again shortly (the youth has a newer consent text to answer first)."""
