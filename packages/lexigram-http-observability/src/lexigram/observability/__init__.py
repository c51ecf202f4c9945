"""lexigram.observability: not implemented yet; see the roadmap in docs/index.md."""
