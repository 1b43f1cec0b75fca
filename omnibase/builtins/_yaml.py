"""check-yaml's loader: the reference's own parser, ``ruamel.yaml``.

pre-commit-hooks loads YAML with ``ruamel.yaml.YAML(typ="safe")`` (YAML 1.2, duplicate
keys are errors, anchors may be redefined) from a file opened as UTF-8 text. We do
exactly that, on the same decoded text stream, so verdicts agree by construction
(``ruamel.yaml`` is a dependency of omnibase for this reason).

Nothing here touches the disk; ``yaml_error`` takes bytes and returns a message or None.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

__all__ = ["ruamel_available", "yaml_error", "yaml_error_ruamel"]

_RUAMEL: list[Any] = []  # [module or None], filled on first use


def _ruamel() -> Any:
    if not _RUAMEL:
        import importlib

        try:
            _RUAMEL.append(importlib.import_module("ruamel.yaml"))
        except ImportError:
            _RUAMEL.append(None)
    return _RUAMEL[0]


def ruamel_available() -> bool:
    """Whether check-yaml runs on ``ruamel.yaml`` (exact parity with the reference)."""
    return _ruamel() is not None


def yaml_error(content: bytes, path: str, *, multi: bool, unsafe: bool) -> str | None:
    """The reason ``content`` is not loadable YAML (the reference's message), or None."""
    return yaml_error_ruamel(content, path, multi=multi, unsafe=unsafe)


class _NamedBytes(io.BytesIO):
    # a text wrapper reports its buffer's name; the reference's marks name the file
    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


def _exhaust(items: Any) -> None:
    for _ in items:
        pass


def yaml_error_ruamel(content: bytes, path: str, *, multi: bool, unsafe: bool) -> str | None:
    """``yaml_error`` on ruamel.yaml, as the reference calls it on a file of its own."""
    ruamel = _ruamel()
    # A fresh loader per file: the reference shares one across a batch of files, and a
    # ``%YAML 1.1`` directive then leaks into the files after it (which files share a
    # batch is up to pre-commit). Ours is the reference's verdict on the file alone.
    loader = ruamel.YAML(typ="safe")
    # open(path, encoding="UTF-8") in the reference: strict UTF-8, universal newlines
    stream = io.TextIOWrapper(_NamedBytes(content, path), encoding="UTF-8")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate anchors etc. only warn
            if unsafe:
                _exhaust(loader.parse(stream))
            elif multi:
                _exhaust(loader.load_all(stream))
            else:
                loader.load(stream)
    except ruamel.YAMLError as exc:
        return str(exc)
    except Exception as exc:  # the reference crashes (and so fails) on these
        return f"{path}: {type(exc).__name__}: {exc}"
    return None
