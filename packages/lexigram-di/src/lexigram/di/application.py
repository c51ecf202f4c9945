"""Placeholder until the DI kernel lands."""


class Application:
    """Placeholder: the DI kernel arrives with its own issue."""
