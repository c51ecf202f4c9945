"""The API reference: one ``lexigram-api`` directive per public package, driven by ``__all__``.

``.. lexigram-api:: lexigram.http`` (inside an ``{eval-rst}`` block of a Markdown page) writes a
table of every name in the package's ``__all__`` with the first line of its docstring, then the
autodoc entry of each name the package defines. A name the package re-exports from another
documented package (``lexigram.http.HTTPStatusError`` is ``lexigram.contracts.web``'s) links to
that package's entry instead of documenting it twice. A name added to ``__all__`` therefore
appears in the reference without touching the docs.

Cross-references: type hints name the defining private module
(``lexigram.contracts.web._errors.HTTPStatusError``); the ``missing-reference`` handler below
maps those, and bare names used in docstrings (``:class:`HTTPClientProtocol```), to the public
entry. A reference to one of our names that still does not resolve stays a warning, and the
build (``-W``) fails on it.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

# Every documented package, in the order that decides which one owns a name that has no
# ``__module__`` of its own (a constant, a type alias): the first that lists it.
PACKAGES = [
    "lexigram.result",
    "lexigram.contracts.clock",
    "lexigram.contracts.web",
    "lexigram.contracts.resilience",
    "lexigram.contracts.observability",
    "lexigram.di",
    "lexigram.di.module",
    "lexigram.di.application",
    "lexigram",
    "lexigram.http",
    "lexigram.resilience",
    "lexigram.observability",
    "lexigram.testing.http",
    "lexigram.testing.http.conformance",
    "lexigram.http_cli",
]


def public_names(package: str) -> list[str]:
    """The names of ``package.__all__`` (empty when the package has none yet)."""
    return list(getattr(importlib.import_module(package), "__all__", []))


def _defining_module(obj: Any) -> str | None:
    if inspect.isclass(obj) or inspect.isfunction(obj):
        return str(obj.__module__)
    return None


def _owner(package: str, name: str, obj: Any) -> str:
    """The documented package whose entry describes ``obj`` (the longest package prefix)."""
    module = _defining_module(obj)
    if module is None:
        for candidate in PACKAGES:
            if name in public_names(candidate):
                return candidate
        return package
    owners = [p for p in PACKAGES if module == p or module.startswith(p + ".")]
    owners = [p for p in owners if name in public_names(p)]
    return max(owners, key=len) if owners else package


def canonical_targets() -> tuple[dict[str, str], dict[str, list[str]]]:
    """Maps private paths (``module.qualname``) and short names to the public entry."""
    by_path: dict[str, str] = {}
    by_short: dict[str, list[str]] = {}
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in public_names(package):
            obj = getattr(module, name)
            public = f"{_owner(package, name, obj)}.{name}"
            defining = _defining_module(obj)
            if defining is not None:
                by_path[f"{defining}.{obj.__qualname__}"] = public
            by_path[f"{package}.{name}"] = public
            if public not in by_short.setdefault(name, []):
                by_short[name].append(public)
    return by_path, by_short


def _summary(obj: Any) -> str:
    if isinstance(obj, str | int | float | frozenset):
        text = repr(sorted(obj)) if isinstance(obj, frozenset) else repr(obj)
        return f"Constant: ``{text}``"
    doc = inspect.getdoc(obj) if inspect.isclass(obj) or callable(obj) else None
    if not doc and not inspect.isclass(obj) and not inspect.isfunction(obj):
        text = repr(obj).replace("typing.", "").replace("~", "")
        alias = re.sub(r"\b(?:[a-z_][\w]*\.)+", "", text)
        return f"Type alias: ``{alias}``"
    if not doc:
        return ""
    first = doc.strip().split("\n\n")[0].replace("\n", " ")
    return first


class PackageAPI(SphinxDirective):
    """``.. lexigram-api:: <package>``: the package's whole ``__all__``."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        package = self.arguments[0]
        module = importlib.import_module(package)
        names = public_names(package)
        lines = [f".. py:module:: {package}", ""]
        if package in self.env.lexigram_targets[0].values():  # type: ignore[attr-defined]
            # lexigram.di.module is also the function lexigram.di.module: one entry only.
            lines = [f".. py:currentmodule:: {package}", ""]
        if module.__doc__:
            lines += [*inspect.cleandoc(module.__doc__).splitlines(), ""]
        if not names:
            lines += ["This package exports no names yet (its ``__all__`` is empty).", ""]
            return self._parse(lines)
        lines += [".. list-table::", "   :widths: 30 70", ""]
        entries: list[str] = []
        for name in names:
            obj = getattr(module, name)
            owner = _owner(package, name, obj)
            summary = _summary(obj)
            if owner != package:
                summary = f"Re-exported from :py:mod:`{owner}`. {summary}".strip()
            else:
                entries += self._entry(package, name, obj)
            lines += [
                f"   * - :py:obj:`~{owner}.{name}`",
                f"     - {summary or ' '}",
            ]
        lines += ["", *entries]
        return self._parse(lines)

    def _entry(self, package: str, name: str, obj: Any) -> list[str]:
        target = f"{package}.{name}"
        if inspect.isclass(obj):
            return [
                f".. autoclass:: {target}",
                "   :members:",
                "   :show-inheritance:",
                "",
            ]
        if inspect.isfunction(obj):
            return [f".. autofunction:: {target}", ""]
        return [f".. autodata:: {target}", "   :no-value:" if _is_alias(obj) else "", ""]

    def _parse(self, lines: list[str]) -> list[nodes.Node]:
        container = nodes.container()
        source = self.get_source_info()[0]
        nested_parse_with_titles(self.state, StringList(lines, source=source), container)
        return list(container.children)


def _is_alias(obj: Any) -> bool:
    return not isinstance(obj, str | int | float | frozenset | tuple | list | dict)


def _resolve(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: nodes.TextElement
) -> nodes.Node | None:
    if node.get("refdomain") != "py":
        return None
    by_path, by_short = env.lexigram_targets  # type: ignore[attr-defined]
    target = str(node["reftarget"])
    public = by_path.get(target)
    if public is None and "." not in target and len(by_short.get(target, [])) == 1:
        public = by_short[target][0]
    if public is None:
        return _private(target, node, contnode)
    domain = env.get_domain("py")
    for role in ("class", "func", "data", "obj"):
        node["reftarget"] = public
        resolved = domain.resolve_xref(
            env, node["refdoc"], app.builder, role, public, node, contnode
        )
        if resolved is not None:
            return resolved
    node["reftarget"] = target
    return None


def _private(target: str, node: pending_xref, contnode: nodes.TextElement) -> nodes.Node | None:
    """A private name of ours (a type variable, an alias, a base class) is shown as text.

    ``target`` is either qualified (``lexigram.result._result._T``) or bare (``PositiveSeconds``,
    as autodoc writes an alias it could not expand), looked up in our loaded modules. Anything
    not found there (a typo, a removed name) stays unresolved, and the build fails on it.
    """
    module_name, _, attribute = target.rpartition(".")
    if module_name:
        candidates = [module_name] if module_name.startswith("lexigram") else []
    elif node.get("reftype") in ("class", "obj", "data"):
        candidates = [m for m in sys.modules if m == "lexigram" or m.startswith("lexigram.")]
    else:
        candidates = []
    for candidate in candidates:
        module = sys.modules.get(candidate)
        if module is None:
            try:
                module = importlib.import_module(candidate)
            except ImportError:
                continue
        if attribute in vars(module) and _ours(vars(module)[attribute]):
            return contnode
    return None


def _ours(value: Any) -> bool:
    """Defined by us: a class or function of a lexigram module, or an alias / type variable."""
    defining = _defining_module(value)
    if defining is None:
        return not inspect.ismodule(value)
    return defining == "lexigram" or defining.startswith("lexigram.")


def _signature(
    app: Sphinx,
    what: str,
    name: str,
    obj: Any,
    options: Any,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str | None, str | None]:
    """A dataclass default ``field(default_factory=...)`` reads ``<factory>``: not Python, so
    Sphinx would fall back to splitting the signature on commas; ``...`` parses."""
    if signature is not None:
        signature = signature.replace("<factory>", "...")
    return signature, return_annotation


def _init(app: Sphinx) -> None:
    app.env.lexigram_targets = canonical_targets()  # type: ignore[attr-defined]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("lexigram-api", PackageAPI)
    app.connect("builder-inited", _init)
    app.connect("missing-reference", _resolve)
    app.connect("autodoc-process-signature", _signature)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
