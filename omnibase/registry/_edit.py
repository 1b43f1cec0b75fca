"""Adding and removing registry entries: atomic, locked, and kind to the file's text.

Each edit takes an exclusive ``flock`` on the file's folder (no lock file), re-reads the file inside the
lock, edits the *text* (so comments and formatting elsewhere survive), checks that the
result still validates, and replaces the file through a temporary file that was
fsynced first. Concurrent editors queue; a crash leaves the old file or the new one.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from returns.result import Failure, Result, Success

from omnibase._io.atomic import write_atomic as _write_atomic
from omnibase.core.values import Misconfigured, Unresolved
from omnibase.registry._load import Layout, YamlProblem, parse_registry_text, parse_yaml, yaml_config_error

__all__ = ["add_entry", "remove_entry", "write_atomic"]

NEW_FILE = "version: 1\ncomponents:\n"

E = TypeVar("E")


@contextmanager
def _locked(path: str) -> Iterator[None]:
    """An exclusive ``flock`` on the registry's folder: a stable inode (the file itself is
    replaced by each edit) and no lock file left anywhere; released when the holder dies."""
    fd = os.open(os.path.dirname(os.path.abspath(path)) or ".", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def write_atomic(path: str, text: str) -> None:
    _write_atomic(path, text.encode("utf-8"))


def _read(path: str) -> Result[str, Misconfigured]:
    from omnibase.registry._load import read_registry_bytes

    if not os.path.lexists(path):
        return Success(NEW_FILE)
    read = read_registry_bytes(path)
    if isinstance(read, Failure):
        return Failure(Misconfigured(message=read.failure().render(), where=path))
    try:
        return Success(read.unwrap().decode("utf-8"))
    except UnicodeDecodeError as exc:
        return Failure(Misconfigured(message=f"{path}: not UTF-8 (byte {exc.start})", where=path))


def _layout(path: str, text: str) -> Result[Layout, Misconfigured]:
    import yaml

    layout = Layout()
    try:
        parse_yaml(text, layout)
    except (YamlProblem, yaml.YAMLError) as exc:
        return Failure(Misconfigured(message=yaml_config_error(path, exc).render(), where=path))
    return Success(layout)


def _entry_mapping(entry_text: str) -> Result[dict[str, Any], Misconfigured]:
    import msgspec
    import yaml

    from omnibase.registry._schema import Entry

    try:
        mapping = parse_yaml(entry_text)
    except (YamlProblem, yaml.YAMLError) as exc:
        return Failure(Misconfigured(message=f"the entry is not valid YAML: {yaml_config_error('--entry', exc).render()}"))
    if not isinstance(mapping, dict):
        return Failure(Misconfigured(message="the entry must be a mapping, e.g. '{name: x, command: [echo]}'"))
    try:
        msgspec.convert(mapping, Entry)
    except msgspec.ValidationError as exc:
        return Failure(Misconfigured(message=f"the entry: {exc}"))
    return Success(mapping)


def _os_errors(path: str, edit: Callable[[], Result[str, E]]) -> Result[str, E | Misconfigured]:
    """``edit()``, with a folder or file that cannot be locked, read or written as a value."""
    try:
        return edit()
    except OSError as exc:
        return Failure(Misconfigured(message=f"{path}: {exc.strerror or exc}", where=path))


def add_entry(path: str, entry_text: str) -> Result[str, Misconfigured]:
    """Append the entry (a YAML/JSON mapping) to the file's ``components``."""
    return _os_errors(path, lambda: _add_entry(path, entry_text))


def remove_entry(path: str, name: str) -> Result[str, Misconfigured | Unresolved]:
    """Delete the entry called ``name``: its lines, nothing else."""
    return _os_errors(path, lambda: _remove_entry(path, name))


def _add_entry(path: str, entry_text: str) -> Result[str, Misconfigured]:
    import yaml

    checked_entry = _entry_mapping(entry_text)
    if isinstance(checked_entry, Failure):
        return checked_entry
    mapping = checked_entry.unwrap()
    block = yaml.safe_dump([mapping], default_flow_style=False, sort_keys=False, allow_unicode=True)
    with _locked(path):
        read = _read(path)
        if isinstance(read, Failure):
            return read
        text = read.unwrap()
        if text and not text.endswith("\n"):
            text += "\n"
        found = _layout(path, text)
        if isinstance(found, Failure):
            return found
        layout = found.unwrap()
        lines = text.splitlines(keepends=True)
        if layout.key_start is None:
            new = text + "components:\n" + block
        elif layout.is_seq and layout.items and not layout.flow:
            indent = " " * max(layout.items[0][1] - 2, 0)
            at = _after_sequence(lines, layout)
            new = "".join(lines[:at]) + "".join(indent + l for l in block.splitlines(keepends=True)) + "".join(lines[at:])
        else:  # `components:` with nothing, `[]` or a flow list: rewrite its value as a block
            key_line = layout.key_start.line
            head = lines[key_line]
            cut = head[: layout.key_end.column] + ":\n"
            end = layout.value_end
            if end is not None and end.line == key_line:
                trailing = head[end.column :].strip()
                if trailing.startswith("#"):  # keep a comment after `components: []`
                    cut = head[: layout.key_end.column] + ":  " + trailing + "\n"
            rest = lines[end.line + 1 :] if end is not None and end.line > key_line else lines[key_line + 1 :]
            items: list[Any] = []
            if layout.is_seq and layout.items:
                items = parse_yaml(text).get("components") or []
            new = "".join(lines[:key_line]) + cut + yaml.safe_dump(items + [mapping], default_flow_style=False, sort_keys=False, allow_unicode=True) + "".join(rest)
        checked = parse_registry_text(new, path)
        if isinstance(checked, Failure):
            return Failure(Misconfigured(message=checked.failure().render(), where=path))
        write_atomic(path, new)
    return Success(f"added {mapping.get('name') or mapping.get('builtin')} to {path}")


def _after_sequence(lines: list[str], layout: Layout) -> int:
    """The line index right after the sequence's last item (before trailing comments)."""
    seq_end = layout.value_end
    end: int = seq_end.line if seq_end.column == 0 else seq_end.line + 1
    end = min(end, len(lines))
    last_line, last_col, _ = layout.items[-1]
    dash = max(last_col - 2, 0)
    while end > last_line + 1:
        line = lines[end - 1]
        stripped = line.lstrip()
        # blank lines, and comments indented less than the items (the file's own, after
        # the list), are not part of the last item
        if stripped and not (stripped.startswith("#") and len(line) - len(stripped) < dash + (dash == 0)):
            break
        end -= 1
    return end


def _remove_entry(path: str, name: str) -> Result[str, Misconfigured | Unresolved]:
    if not os.path.lexists(path):
        return Failure(Unresolved(name=name, message=f"no registry file at {path}"))
    with _locked(path):
        read = _read(path)
        if isinstance(read, Failure):
            return read
        text = read.unwrap()
        found = _layout(path, text)
        if isinstance(found, Failure):
            return found
        layout = found.unwrap()
        items = layout.items if layout.is_seq and not layout.flow else []
        lines = text.splitlines(keepends=True)
        for i, (start, _, item_name) in enumerate(items):
            if item_name != name:  # a builtin entry is named after its check (see _layout)
                continue
            if i + 1 < len(items):
                end = items[i + 1][0]
            else:
                end = _after_sequence(lines, layout)
            while end > start + 1 and lines[end - 1].lstrip().startswith("#"):
                end -= 1  # comments right above the next item belong to it
            new = "".join(lines[:start] + lines[end:])
            if len(items) == 1:  # the last one: `components:` would be null, so make it `[]`
                at = layout.key_start.line
                head = lines[at]
                key_end = layout.key_end.column
                lines2 = new.splitlines(keepends=True)
                lines2[at] = head[:key_end] + ": []" + head[key_end:].split(":", 1)[1].rstrip("\n").rstrip() + "\n"
                new = "".join(lines2)
            checked = parse_registry_text(new, path)
            if isinstance(checked, Failure):
                return Failure(Misconfigured(message=checked.failure().render(), where=path))
            write_atomic(path, new)
            return Success(f"removed {name} from {path}")
    return Failure(Unresolved(name=name, message=f"no entry named '{name}' in {path}"))
