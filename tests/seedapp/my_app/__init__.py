"""Stand-in for the application package the documentation's examples import."""
