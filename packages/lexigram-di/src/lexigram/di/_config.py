"""Layered configuration: application.yaml < profile overlay < LEX_* environment < code.

Each value remembers where it came from, so a validation error can say
``http.pool.timeout: Input should be a valid number (from application.yaml line 7)``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import BaseModel, ValidationError

from lexigram.di._errors import ConfigError, key_name
from lexigram.di._provider import Provider, describe

__all__ = ["DEFAULT_CONFIG_FILE", "Layers", "load", "parse_scalar", "resolve_section"]

DEFAULT_CONFIG_FILE: Final = "application.yaml"
"""The configuration file an ``Application`` reads by default, in the working directory."""
ENV_PREFIX: Final = "LEX_"
PROFILE_VAR: Final = "LEX_PROFILE"
_BOOL_TAG: Final = "tag:yaml.org,2002:bool"

KeyPath = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false, so ``NO`` or ``off`` stay strings.

    pydantic still reads ``yes``/``no``/``on``/``off`` as booleans for ``bool`` fields; a ``str``
    field (a country code, a mode) no longer receives ``False`` by surprise.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(slots=True)
class Layers:
    """The merged configuration data and, per key path, where its value came from."""

    data: dict[str, Any] = field(default_factory=dict)
    sources: dict[KeyPath, str] = field(default_factory=dict)

    def set(self, path: KeyPath, value: Any, source: str) -> None:
        """Set ``path`` to ``value``, creating (or replacing non-mapping) parents."""
        node: dict[Any, Any] = self.data
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[path[-1]] = value
        self._forget(path)
        self.sources[path] = source

    def merge(self, data: Mapping[Any, Any], lines: Mapping[KeyPath, int], shown: str) -> None:
        """Deep-merge a file's ``data`` over what is there; ``lines`` locate its keys."""
        _deep_merge(self.data, data, (), self._forget)
        self.sources.update((path, f"{shown} line {line}") for path, line in lines.items())

    def source(self, path: KeyPath) -> str | None:
        """Where the value at ``path`` (or its nearest parent with a known source) came from."""
        for end in range(len(path), 0, -1):
            found = self.sources.get(path[:end])
            if found is not None:
                return found
        return None

    def _forget(self, path: KeyPath) -> None:
        # A replaced subtree's old sources would otherwise blame the wrong file.
        size = len(path)
        for stale in [p for p in self.sources if len(p) > size and p[:size] == path]:
            del self.sources[stale]


def _deep_merge(
    target: dict[Any, Any],
    overlay: Mapping[Any, Any],
    path: KeyPath,
    forget: Callable[[KeyPath], None],
) -> None:
    for key, value in overlay.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            _deep_merge(current, value, (*path, key), forget)
        else:
            forget((*path, key))
            target[key] = _copy(value)


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def load(
    config_file: str | os.PathLike[str] | None, profile: str | None, environ: Mapping[str, str]
) -> Layers:
    """Read the base file, the profile overlay and the ``LEX_*`` variables, in that order.

    ``config_file=None`` reads no file at all (the environment only). A missing
    ``application.yaml`` (the default) or profile file is no error; a missing ``config_file``
    named otherwise is.
    """
    layers = Layers()
    files: list[Path] = []
    if config_file is not None:
        base = Path(config_file)
        if os.fspath(config_file) != DEFAULT_CONFIG_FILE and not base.is_file():
            raise ConfigError(f"{base}: configuration file not found")
        files.append(base)
        if profile:
            files.append(base.with_name(f"{base.stem}.{profile}{base.suffix}"))
    for path in files:
        if path.is_file():
            data, lines = _read_yaml(path)
            layers.merge(data, lines, str(path))

    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name == PROFILE_VAR:
            continue
        key_path = tuple(part.lower() for part in name[len(ENV_PREFIX) :].split("__"))
        layers.set(key_path, parse_scalar(environ[name]), f"environment variable {name}")
    return layers


def parse_scalar(text: str) -> Any:
    """An environment value as a YAML scalar (``15.0`` float, ``true`` bool, ``null`` None).

    Anything that is not a plain scalar in YAML (a mapping, a list, a date, invalid YAML)
    stays the string it was.
    """
    try:
        value = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError:
        return text
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return text


def _read_yaml(path: Path) -> tuple[dict[Any, Any], dict[KeyPath, int]]:
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{shown}: cannot read the configuration file: {exc}") from exc
    loader = _Loader(text)
    try:
        # Compose first to keep the node tree: it knows the line of every key.
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "cannot be parsed"
        raise ConfigError(f"{shown}{where}: invalid YAML: {problem}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{shown}: invalid YAML: {exc}") from exc
    finally:
        loader.dispose()
    if node is None or data is None:
        return {}, {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{shown} line 1: the top level must be a mapping of sections, "
            f"not a {type(data).__name__}"
        )
    lines: dict[KeyPath, int] = {}
    _key_lines(node, (), lines, set())
    return data, lines


def _key_lines(node: yaml.Node, path: KeyPath, out: dict[KeyPath, int], active: set[int]) -> None:
    if id(node) in active:  # an alias that refers to itself
        return
    active.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                child = (*path, key_node.value)
                out[child] = key_node.start_mark.line + 1
                _key_lines(value_node, child, out, active)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            out[child] = item.start_mark.line + 1
            _key_lines(item, child, out, active)
    active.discard(id(node))


def resolve_section(provider: Provider, layers: Layers) -> list[str]:
    """Set ``provider.config`` to its effective section; return error lines (empty if valid).

    Precedence: model defaults < file < profile file < environment < fields set in code.
    """
    key = provider.config_key
    model = provider.config_model
    prefix: KeyPath = () if key is None else (key,)
    section: Any = {} if key is None else _copy(layers.data.get(key, {}))
    if model is None:
        if key is not None:
            provider.config = section
        return []

    # What the code set, remembered at the first start: a provider instance declared in a
    # module is shared by every Application built from it, and after one start its config is
    # the effective one, whose fields must not pass for code in the next application.
    code = vars(provider).setdefault("_lexigram_code_config", provider.config)
    if isinstance(code, model):
        explicit = _explicit_fields(code)
    elif isinstance(code, Mapping):
        explicit = _copy(code)
    elif code is None:
        explicit = {}
    else:
        return [
            f"{describe(provider)}.config: expected a {key_name(model)} instance, "
            f"got {key_name(type(code))}"
        ]

    view = Layers(data=section if isinstance(section, dict) else {}, sources=dict(layers.sources))
    if explicit:
        # Code wins, field by field; a section that is not a mapping is replaced outright.
        _deep_merge(view.data, explicit, prefix, view._forget)
        view.sources.update((path, "code") for path in _leaf_paths(explicit, prefix))
        section = view.data
    try:
        provider.config = model.model_validate(section)
    except ValidationError as exc:
        return [_describe_error(error, prefix, view) for error in exc.errors()]
    return []


def _describe_error(error: Any, prefix: KeyPath, layers: Layers) -> str:
    loc: KeyPath = (*prefix, *error["loc"])
    text = ".".join(map(str, loc)) or "(configuration)"
    message = "Unknown key" if error["type"] == "extra_forbidden" else error["msg"]
    # A missing key has no source of its own; its parent's would mislead.
    source = None if error["type"] == "missing" else layers.source(loc)
    if source == "code":
        return f"{text}: {message} (set in code)"
    if source is not None:
        return f"{text}: {message} (from {source})"
    return f"{text}: {message}"


def _explicit_fields(model: BaseModel) -> dict[str, Any]:
    """The fields the code set explicitly, recursively for nested models."""
    fields = type(model).model_fields
    out: dict[str, Any] = {}
    for name in model.model_fields_set:
        value = getattr(model, name)
        info = fields.get(name)
        key = info.alias if info is not None and info.alias else name
        out[key] = _explicit_value(value)
    return out


def _explicit_value(value: Any) -> Any:
    # Models inside a mapping (named sub-configurations) merge field by field too.
    if isinstance(value, BaseModel):
        return _explicit_fields(value)
    if isinstance(value, Mapping) and any(isinstance(item, BaseModel) for item in value.values()):
        return {name: _explicit_value(item) for name, item in value.items()}
    return value


def _leaf_paths(data: Mapping[Any, Any], prefix: KeyPath) -> list[KeyPath]:
    paths: list[KeyPath] = []
    for key, value in data.items():
        path = (*prefix, key)
        if isinstance(value, Mapping):
            paths.extend(_leaf_paths(value, path))
        else:
            paths.append(path)
    return paths
