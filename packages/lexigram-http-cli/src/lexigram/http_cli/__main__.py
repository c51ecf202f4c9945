"""``python -m lexigram.http_cli``: the same as the ``lexigram-http`` command."""

from lexigram.http_cli import main

main()
