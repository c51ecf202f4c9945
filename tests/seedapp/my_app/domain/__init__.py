"""Domain layer of the stand-in application."""
