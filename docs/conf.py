"""Sphinx configuration of the documentation site (MyST Markdown pages, Furo theme).

Build: ``uv run --frozen scripts/docs`` (warnings are errors). Serve: ``scripts/docs --serve``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "lexigram-http"
author = "the lexigram-http authors"
copyright = "2026, the lexigram-http authors"
release = "0.1.0"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "lexigram_api",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "examples", "contributing_template.md"]
templates_path: list[str] = []

# MyST: anchors for headings (links such as contracts.md#errors), ::: fences, {eval-rst}.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# Our own references must resolve (-W turns a dangling one into a failure).
nitpicky = True
# Names that are not ours and cannot resolve offline (no intersphinx inventory is fetched):
# the standard library, and the third-party types our signatures mention.
nitpick_ignore_regex = [
    (r"py:.*", r"(builtins|typing|typing_extensions|types|collections\.abc|collections)\..*"),
    (r"py:.*", r"(asyncio|enum|abc|re|ssl|logging|pathlib|os|datetime|json|dataclasses)\..*"),
    (r"py:.*", r"(contextlib|random|time|http|numbers|decimal|io|concurrent|socket)\..*"),
    (r"py:.*", r"(pydantic|pydantic_core|aiohttp|multidict|yarl|pytest|_pytest|redis)\..*"),
    (r"py:.*", r"(opentelemetry|prometheus_client|threading|wsgiref)\..*"),
    # Written unqualified by autodoc: pathlib.Path and aiohttp.abc.AbstractResolver.
    (r"py:class", r"(Path|AbstractResolver)"),
    # Bare builtins and typing names in signatures.
    (
        r"py:.*",
        r"(Any|None|NoReturn|Self|Never|Callable|Awaitable|Iterable|Iterator|AsyncIterator|"
        r"AsyncIterable|Mapping|MutableMapping|Sequence|Coroutine|Generator|AsyncGenerator|"
        r"object|int|str|bytes|float|bool|dict|list|tuple|set|frozenset|type|"
        r"BaseException|Exception|ValueError|TypeError|RuntimeError|LookupError|"
        r"ConnectionError|TimeoutError|AssertionError|Ellipsis|EllipsisType|"
        r"BaseModel|ConfigDict|TypeVar|ParamSpec|Literal|Protocol|Enum|StrEnum|IntEnum)",
    ),
]

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_class_signature = "separated"
autodoc_inherit_docstrings = True
autodoc_default_options = {"exclude-members": "model_config,model_fields,model_computed_fields"}
python_use_unqualified_type_names = True
add_module_names = False

html_theme = "furo"
html_title = "lexigram-http"
html_static_path: list[str] = []
html_show_sourcelink = False
