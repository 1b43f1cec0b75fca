"""Finding, parsing and validating the registry file. Never raises: errors are values
that name the file, the line and the field at fault."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import msgspec
from returns.result import Failure, Result, Success

from omnibase.registry._schema import FILE_NAMES, ConfigError, Registry, RegistryFile

__all__ = ["find_registry", "load_registry", "locate", "parse_registry_text"]

ENV_VAR = "OMNIBASE_REGISTRY"


def find_registry(explicit: str | None, *, cwd: str, env: Mapping[str, str]) -> str | None:
    """``explicit``, else ``$OMNIBASE_REGISTRY``, else the nearest registry file upward."""
    if explicit:
        return os.path.abspath(os.path.join(cwd, explicit))
    if env.get(ENV_VAR):
        return os.path.abspath(os.path.join(cwd, env[ENV_VAR]))
    folder = os.path.abspath(cwd)
    while True:
        for name in FILE_NAMES:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate):
                return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def load_registry(explicit: str | None, *, cwd: str, env: Mapping[str, str]) -> Result[Registry, ConfigError]:
    """The registry found as ``find_registry`` says, validated; no file is an empty one."""
    path = find_registry(explicit, cwd=cwd, env=env)
    if path is None:
        return Success(Registry(path=None))
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        return Failure(ConfigError(path, 0, 0, f"cannot read: {exc.strerror or exc}"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Failure(ConfigError(path, 0, 0, f"not UTF-8 (byte {exc.start})"))
    return parse_registry_text(text, path)


def parse_registry_text(text: str, path: str) -> Result[Registry, ConfigError]:
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        return Failure(ConfigError(path, line, col, f"invalid YAML: {exc.problem or exc.context}"))
    except yaml.YAMLError as exc:
        return Failure(ConfigError(path, 0, 0, f"invalid YAML: {exc}"))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return Failure(ConfigError(path, 1, 1, "the registry file must be a mapping (version, stages, components)"))
    try:
        parsed = msgspec.convert(data, RegistryFile)
    except msgspec.ValidationError as exc:
        message = str(exc)
        where = message.rsplit(" - at ", 1)
        field = (where[1] if len(where) == 2 else "$").strip("`")
        line, col = _locate(node, field)
        pretty = field.replace("$.", "").replace("$", "(top)")
        return Failure(ConfigError(path, line, col, f"{pretty}: {where[0]}"))
    seen: dict[str, int] = {}
    for i, entry in enumerate(parsed.components):
        if entry.name in seen:
            line, col = _locate(node, f"$.components[{i}].name")
            return Failure(ConfigError(path, line, col, f"components[{i}].name: duplicate name '{entry.name}'"))
        if not re.match(r"^[A-Za-z0-9_.-]+$", entry.name):
            line, col = _locate(node, f"$.components[{i}].name")
            return Failure(ConfigError(path, line, col, f"components[{i}].name: '{entry.name}' may use A-Z a-z 0-9 _ . - only"))
        if (entry.command is None) == (entry.python is None):
            line, col = _locate(node, f"$.components[{i}]")
            return Failure(ConfigError(path, line, col, f"components[{i}]: give exactly one of 'command' or 'python'"))
        if entry.command is not None and not entry.command:
            line, col = _locate(node, f"$.components[{i}].command")
            return Failure(ConfigError(path, line, col, f"components[{i}].command: an empty command"))
        for key in ("files", "exclude"):
            try:
                re.compile(getattr(entry, key))
            except re.error as err:
                line, col = _locate(node, f"$.components[{i}].{key}")
                return Failure(ConfigError(path, line, col, f"components[{i}].{key}: bad regex: {err}"))
        seen[entry.name] = i
    from omnibase.core.select import parse_filter

    for stage, config in parsed.stages.items():
        bad = parse_filter(config.filter or "")
        if isinstance(bad, Failure):
            line, col = _locate(node, f"$.stages.{stage}.filter")
            return Failure(ConfigError(path, line, col, f"stages.{stage}.filter: {bad.failure().message}"))
    try:
        re.compile(parsed.exclude)
    except re.error as err:
        line, col = _locate(node, "$.exclude")
        return Failure(ConfigError(path, line, col, f"exclude: bad regex: {err}"))
    return Success(Registry(path=path, entries=parsed.components, stages=dict(parsed.stages), exclude=parsed.exclude))


def locate(path: str, field: str) -> tuple[int, int]:
    """The line and column of ``field`` (msgspec's path, ``$.components[2].needs``) in the
    registry file at ``path``; (0, 0) when it cannot be found."""
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            return _locate(yaml.compose(f.read(), Loader=yaml.SafeLoader), field)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return 0, 0


_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def _locate(node: Any, field: str) -> tuple[int, int]:
    """The line and column of the YAML node at msgspec's path (``$.a[2].b``)."""
    import yaml

    best = node
    for m in _STEP.finditer(field):
        key, index = m.group(1), m.group(2)
        nxt = None
        if key is not None and isinstance(best, yaml.MappingNode):
            for k, v in best.value:
                if getattr(k, "value", None) == key:
                    nxt = v if not isinstance(v, yaml.ScalarNode) or v.value != "" else k
                    break
        elif index is not None and isinstance(best, yaml.SequenceNode) and int(index) < len(best.value):
            nxt = best.value[int(index)]
        if nxt is None:
            break
        best = nxt
    if best is None:
        return 0, 0
    return best.start_mark.line + 1, best.start_mark.column + 1
