"""lexigram.http_cli: the ``lexigram-http`` command (the lexigram-http-cli distribution).

``lexigram-http demo`` runs the full client stack against a misbehaving local upstream, live;
``lexigram-http get|post|put|patch|delete|head|options URL [ITEMS...]`` sends httpie-style
requests and can show every attempt (``--timeline``); ``lexigram-http config show|validate``
prints the effective ``http:`` / ``resilience:`` configuration with the source of each value,
or checks a file as the application's boot does. :data:`app` is the typer application,
:func:`main` the console script.
"""

from lexigram.http_cli._app import app, main

__all__ = ["app", "main"]
