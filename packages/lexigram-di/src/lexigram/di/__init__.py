"""lexigram.di: the DI kernel arrives with its own issue (see docs/index.md)."""
