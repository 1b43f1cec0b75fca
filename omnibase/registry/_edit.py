"""Adding and removing registry entries: atomic, locked, and kind to the file's text.

Each edit takes an exclusive ``flock`` on ``<file>.lock``, re-reads the file inside the
lock, edits the *text* (so comments and formatting elsewhere survive), checks that the
result still validates, and replaces the file through a temporary file that was
fsynced first. Concurrent editors queue; a crash leaves the old file or the new one.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from returns.result import Failure, Result, Success

from omnibase._atomic import write_atomic as _write_atomic
from omnibase.core.values import Misconfigured, Unresolved
from omnibase.registry._load import parse_registry_text

__all__ = ["add_entry", "remove_entry", "write_atomic"]

NEW_FILE = "version: 1\ncomponents:\n"


@contextmanager
def _locked(path: str) -> Iterator[None]:
    fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def write_atomic(path: str, text: str) -> None:
    _write_atomic(path, text.encode("utf-8"))


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return NEW_FILE


def _components_node(text: str) -> tuple[Any, Any]:
    import yaml

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is None:
        return None, None
    for key, value in root.value:
        if key.value == "components":
            return key, value
    return None, None


def add_entry(path: str, entry_text: str) -> Result[str, Misconfigured]:
    """Append the entry (a YAML/JSON mapping) to the file's ``components``."""
    import msgspec
    import yaml

    from omnibase.registry._schema import Entry

    try:
        mapping = yaml.safe_load(entry_text)
    except yaml.YAMLError as exc:
        return Failure(Misconfigured(message=f"the entry is not valid YAML: {exc}"))
    if not isinstance(mapping, dict):
        return Failure(Misconfigured(message="the entry must be a mapping, e.g. '{name: x, command: [echo]}'"))
    try:
        msgspec.convert(mapping, Entry)
    except msgspec.ValidationError as exc:
        return Failure(Misconfigured(message=f"the entry: {exc}"))
    block = yaml.safe_dump([mapping], default_flow_style=False, sort_keys=False, allow_unicode=True)
    with _locked(path):
        text = _read(path)
        if text and not text.endswith("\n"):
            text += "\n"
        key, seq = _components_node(text)
        lines = text.splitlines(keepends=True)
        if key is None:
            new = text + "components:\n" + block
        elif isinstance(seq, yaml.SequenceNode) and seq.value and not seq.flow_style:
            indent = " " * max(seq.value[0].start_mark.column - 2, 0)
            at = _after_sequence(lines, seq)
            new = "".join(lines[:at]) + "".join(indent + l for l in block.splitlines(keepends=True)) + "".join(lines[at:])
        else:  # `components:` with nothing, `[]` or a flow list: rewrite its value as a block
            head = lines[key.start_mark.line]
            cut = head[: key.end_mark.column] + ":\n"
            if seq is not None and seq.end_mark.line == key.start_mark.line:
                trailing = head[seq.end_mark.column :].strip()
                if trailing.startswith("#"):  # keep a comment after `components: []`
                    cut = head[: key.end_mark.column] + ":  " + trailing + "\n"
            rest = lines[seq.end_mark.line + 1 :] if seq is not None and seq.end_mark.line > key.start_mark.line else lines[key.start_mark.line + 1 :]
            items: list[Any] = []
            if isinstance(seq, yaml.SequenceNode) and seq.value:
                items = yaml.safe_load(text).get("components") or []
            new = "".join(lines[: key.start_mark.line]) + cut + yaml.safe_dump(items + [mapping], default_flow_style=False, sort_keys=False, allow_unicode=True) + "".join(rest)
        checked = parse_registry_text(new, path)
        if isinstance(checked, Failure):
            return Failure(Misconfigured(message=checked.failure().render(), where=path))
        write_atomic(path, new)
    return Success(f"added {mapping.get('name') or mapping.get('builtin')} to {path}")


def _after_sequence(lines: list[str], seq: Any) -> int:
    """The line index right after the sequence's last item (before trailing comments)."""
    end: int = seq.end_mark.line if seq.end_mark.column == 0 else seq.end_mark.line + 1
    end = min(end, len(lines))
    dash = max(seq.value[-1].start_mark.column - 2, 0)
    while end > seq.value[-1].start_mark.line + 1:
        line = lines[end - 1]
        stripped = line.lstrip()
        # blank lines, and comments indented less than the items (the file's own, after
        # the list), are not part of the last item
        if stripped and not (stripped.startswith("#") and len(line) - len(stripped) < dash + (dash == 0)):
            break
        end -= 1
    return end


def remove_entry(path: str, name: str) -> Result[str, Misconfigured | Unresolved]:
    """Delete the entry called ``name``: its lines, nothing else."""
    import yaml

    if not os.path.exists(path):
        return Failure(Unresolved(name=name, message=f"no registry file at {path}"))
    with _locked(path):
        text = _read(path)
        try:
            _, seq = _components_node(text)
        except yaml.YAMLError as exc:
            return Failure(Misconfigured(message=f"{path}: invalid YAML: {exc}", where=path))
        items = seq.value if isinstance(seq, yaml.SequenceNode) and not seq.flow_style else []
        lines = text.splitlines(keepends=True)
        for i, item in enumerate(items):
            keys = {getattr(k, "value", None): getattr(v, "value", None) for k, v in getattr(item, "value", [])}
            if keys.get("name", keys.get("builtin")) != name:  # a builtin entry is named after its check
                continue
            start = item.start_mark.line
            if i + 1 < len(items):
                end = items[i + 1].start_mark.line
                while end > start + 1 and lines[end - 1].lstrip().startswith("#"):
                    end -= 1  # comments right above the next item belong to it
            else:
                end = _after_sequence(lines, seq)
                while end > start + 1 and lines[end - 1].lstrip().startswith("#"):
                    end -= 1
            new = "".join(lines[:start] + lines[end:])
            if len(items) == 1:  # the last one: `components:` would be null, so make it `[]`
                key, _ = _components_node(text)
                at = key.start_mark.line
                head = lines[at]
                lines2 = new.splitlines(keepends=True)
                lines2[at] = head[: key.end_mark.column] + ": []" + head[key.end_mark.column :].split(":", 1)[1].rstrip("\n").rstrip() + "\n"
                new = "".join(lines2)
            checked = parse_registry_text(new, path)
            if isinstance(checked, Failure):
                return Failure(Misconfigured(message=checked.failure().render(), where=path))
            write_atomic(path, new)
            return Success(f"removed {name} from {path}")
    return Failure(Unresolved(name=name, message=f"no entry named '{name}' in {path}"))
