"""The seed's examples as users write them: type-checked by ``mypy --strict`` and executed."""
