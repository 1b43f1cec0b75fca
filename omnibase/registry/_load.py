"""Finding, reading, parsing and validating the registry file. Never raises: errors are
values that name the file, the line and the field at fault.

The file is read only when it is a regular file of at most ``MAX_REGISTRY_BYTES``. Its
YAML is turned into data in one pass over the parser's events (libyaml's when present),
with no recursion: nesting deeper than ``MAX_DEPTH``, duplicate keys, unknown aliases and
alias bombs are errors with a line and column. Line numbers of a field are looked up
only when there is an error to report.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec
from returns.result import Failure, Result, Success

from omnibase.registry._schema import FILE_NAMES, NAME_PATTERN, STAGE_DEFAULTS, ConfigError, Registry, RegistryFile

__all__ = [
    "MAX_DEPTH",
    "MAX_REGISTRY_BYTES",
    "Layout",
    "find_registry",
    "locate",
    "load_registry",
    "parse_registry_text",
    "parse_yaml",
    "read_registry_bytes",
    "repository_top",
    "yaml_config_error",
]

ENV_VAR = "OMNIBASE_REGISTRY"

#: A registry file larger than this is refused (exit 2): 10,000 entries take about 1 MiB.
MAX_REGISTRY_BYTES = 8 * 1024 * 1024
#: Collections nested deeper than this are refused (the schema needs 5 levels).
MAX_DEPTH = 64
#: Nodes the document may expand to through aliases (an "alias bomb" is refused).
MAX_NODES = 2_000_000


def repository_top(folder: str) -> str | None:
    """The nearest folder at or above ``folder`` holding a ``.git`` (a repository's root)."""
    here = os.path.abspath(folder)
    while True:
        if os.path.lexists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def find_registry(explicit: str | None, *, cwd: str, env: Mapping[str, str]) -> str | None:
    """``explicit``, else ``$OMNIBASE_REGISTRY``, else the nearest registry file from ``cwd``
    upward, never above the repository's root (outside a repository: ``cwd`` only)."""
    if explicit:
        return os.path.abspath(os.path.join(cwd, explicit))
    if env.get(ENV_VAR):
        return os.path.abspath(os.path.join(cwd, env[ENV_VAR]))
    folder = os.path.abspath(cwd)
    top = repository_top(folder) or folder
    while True:
        for name in FILE_NAMES:
            candidate = os.path.join(folder, name)
            if os.path.lexists(candidate):
                return candidate
        parent = os.path.dirname(folder)
        if folder == top or parent == folder:
            return None
        folder = parent


def read_registry_bytes(path: str) -> Result[bytes, ConfigError]:
    """The file's bytes when it is a regular file within the size cap. A FIFO, a device or
    a directory is refused without reading (opened non-blocking, checked with ``fstat``)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return Failure(ConfigError(path, 0, 0, f"cannot read: {exc.strerror or exc}"))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return Failure(ConfigError(path, 0, 0, f"not a regular file ({_kind(info.st_mode)}); a registry must be a plain file"))
        if info.st_size > MAX_REGISTRY_BYTES:
            return Failure(ConfigError(path, 0, 0, f"{info.st_size} bytes: larger than the {MAX_REGISTRY_BYTES} byte limit of a registry file"))
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_REGISTRY_BYTES:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_REGISTRY_BYTES:
            return Failure(ConfigError(path, 0, 0, f"larger than the {MAX_REGISTRY_BYTES} byte limit of a registry file"))
        return Success(b"".join(chunks))
    except OSError as exc:
        return Failure(ConfigError(path, 0, 0, f"cannot read: {exc.strerror or exc}"))
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a plain file"


def load_registry(explicit: str | None, *, cwd: str, env: Mapping[str, str]) -> Result[Registry, ConfigError]:
    """The registry found as ``find_registry`` says, validated; no file is an empty one."""
    path = find_registry(explicit, cwd=cwd, env=env)
    if path is None:
        return Success(Registry(path=None))
    read = read_registry_bytes(path)
    if isinstance(read, Failure):
        return read
    raw = read.unwrap()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Failure(ConfigError(path, 0, 0, f"not UTF-8 (byte {exc.start})"))
    return parse_registry_text(text, path)


# --- YAML, in one pass over the parser's events ------------------------------------------------


class YamlProblem(Exception):
    """A YAML text the reader refuses: where, why, and (when known) the field's path."""

    def __init__(self, mark: Any, message: str, field: str = "") -> None:
        super().__init__(message)
        self.line = mark.line + 1 if mark is not None else 0
        self.column = mark.column + 1 if mark is not None else 0
        self.message = message
        self.field = field


def _field_path(stack: list[_Frame]) -> str:
    """The path of the node being read (``components[2].timeout``), msgspec's style."""
    parts = [f".{frame.key}" if frame.is_map else f"[{len(frame.obj)}]" for frame in stack]
    return "".join(parts).lstrip(".") or "(top)"


class Layout:
    """Where the ``components`` list sits in the text (for editing it in place): the key's
    start and end marks, the end of its value, whether that value is a block or flow list,
    and each item's start line, column and name."""

    def __init__(self) -> None:
        self.key_start: Any = None
        self.key_end: Any = None
        self.value_end: Any = None
        self.is_seq = False
        self.flow = False
        self.items: list[tuple[int, int, object]] = []


_NO_KEY = object()


class _Frame:
    __slots__ = ("anchor", "is_map", "key", "key_mark", "merge_key", "merges", "obj", "size")

    def __init__(self, obj: Any, is_map: bool, anchor: str | None) -> None:
        self.obj = obj
        self.is_map = is_map
        self.anchor = anchor
        self.key: Any = _NO_KEY
        self.key_mark: Any = None
        self.merge_key = False
        self.merges: list[list[dict[Any, Any]]] = []
        self.size = 1


_MAP_TAGS = (None, "!", "tag:yaml.org,2002:map")
_SEQ_TAGS = (None, "!", "tag:yaml.org,2002:seq")
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"  # a plain `<<`: kept as the key that asks for a merge


def _yaml_events(text: str) -> Iterator[Any]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        while loader.check_event():
            yield loader.get_event()
    finally:
        loader.dispose()


def parse_yaml(text: str, layout: Layout | None = None) -> Any:
    """The data of a one-document YAML text (safe types only); raises ``YamlProblem`` or
    ``yaml.YAMLError``. Iterative: no recursion however deep the text nests."""
    import yaml
    from yaml import events as ev

    resolver = yaml.resolver.Resolver()
    constructor = yaml.constructor.SafeConstructor()
    scalar_node = yaml.ScalarNode
    plain_cache: dict[str, Any] = {}
    anchors: dict[str, tuple[Any, int]] = {}
    open_anchors: set[str] = set()
    stack: list[_Frame] = []
    root: list[Any] = []
    documents = 0
    mapping_start, mapping_end, sequence_start, sequence_end = ev.MappingStartEvent, ev.MappingEndEvent, ev.SequenceStartEvent, ev.SequenceEndEvent
    scalar, alias, document_start, stream_end = ev.ScalarEvent, ev.AliasEvent, ev.DocumentStartEvent, ev.StreamEndEvent

    def construct(tag: str, value: str, mark: Any) -> Any:
        make = constructor.yaml_constructors.get(tag)
        if make is None:
            raise YamlProblem(mark, f"unsupported tag {tag}")
        try:
            return make(constructor, scalar_node(tag, value, mark, mark))
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            raise YamlProblem(mark, f"bad {tag.rsplit(':', 1)[-1]} value {value!r}: {exc}") from None

    def add(value: Any, size: int, mark: Any, merge_key: bool = False) -> None:
        if not stack:
            root.append(value)
            return
        top = stack[-1]
        top.size += size
        if top.size > MAX_NODES:
            raise YamlProblem(mark, f"the document expands to more than {MAX_NODES} nodes (through aliases)")
        if not top.is_map:
            top.obj.append(value)
            return
        if top.key is _NO_KEY:
            if isinstance(value, (dict, list)):
                raise YamlProblem(mark, "a mapping key must be a scalar")
            top.key, top.key_mark, top.merge_key = value, mark, merge_key
            return
        key = top.key
        top.key = _NO_KEY
        if top.merge_key:
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(s, dict) for s in sources):
                raise YamlProblem(mark, "a merge key `<<` needs a mapping or a list of mappings")
            top.merges.append(sources)
            return
        try:
            if key in top.obj:
                raise YamlProblem(top.key_mark, f"duplicate key '{key}'", f"{_field_path(stack[:-1])}.{key}".lstrip(".").replace("(top).", ""))
            top.obj[key] = value
        except TypeError:
            raise YamlProblem(top.key_mark, "a mapping key must be a scalar") from None

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    get_event = loader.get_event
    try:
        while True:
            event = get_event()
            kind = type(event)
            if kind is scalar:
                tag = event.tag
                value = event.value
                plain = (tag is None or tag == "!") and event.implicit[0]
                if plain:
                    data = plain_cache.get(value, _NO_KEY)
                    if data is _NO_KEY:
                        resolved = resolver.resolve(scalar_node, value, (True, False))  # type: ignore[no-untyped-call]
                        data = value if resolved in (_STR, _MERGE) else construct(resolved, value, event.start_mark)
                        plain_cache[value] = data
                elif tag is None or tag == "!":
                    data = value
                else:
                    data = construct(tag, value, event.start_mark)
                if event.anchor is not None:
                    anchors[event.anchor] = (data, 1)
                if layout is not None and (len(stack) < 3 or (len(stack) == 3 and stack[2].key in ("name", "builtin"))):
                    _note_scalar(layout, stack, data, event)
                if stack:  # the common cases inline: an item, a key, a value
                    top = stack[-1]
                    top.size += 1
                    if not top.is_map:
                        top.obj.append(data)
                        continue
                    if top.key is _NO_KEY:
                        top.key, top.key_mark, top.merge_key = data, event.start_mark, plain and value == "<<"
                        continue
                    top.size -= 1
                add(data, 1, event.start_mark)
            elif kind is mapping_start or kind is sequence_start:
                is_map = kind is mapping_start
                if event.tag not in (_MAP_TAGS if is_map else _SEQ_TAGS):
                    raise YamlProblem(event.start_mark, f"unsupported tag {event.tag}")
                if len(stack) >= MAX_DEPTH:
                    raise YamlProblem(event.start_mark, f"nested deeper than {MAX_DEPTH} levels")
                if layout is not None and len(stack) <= 2:
                    _note_start(layout, stack, is_map, event)
                if event.anchor is not None:
                    open_anchors.add(event.anchor)
                stack.append(_Frame({} if is_map else [], is_map, event.anchor))
            elif kind is mapping_end or kind is sequence_end:
                frame = stack.pop()
                for sources in frame.merges:  # explicit keys win, then earlier sources
                    for source in sources:
                        for k, v in source.items():
                            frame.obj.setdefault(k, v)
                if frame.anchor is not None:
                    open_anchors.discard(frame.anchor)
                    anchors[frame.anchor] = (frame.obj, frame.size)
                if layout is not None and len(stack) == 1 and _components_value(stack) and layout.value_end is None:
                    layout.value_end = event.end_mark
                add(frame.obj, frame.size, event.start_mark)
            elif kind is alias:
                if event.anchor in open_anchors:
                    raise YamlProblem(event.start_mark, f"alias *{event.anchor} refers to a node that contains it")
                if event.anchor not in anchors:
                    raise YamlProblem(event.start_mark, f"unknown alias *{event.anchor}")
                if layout is not None and _components_value(stack):
                    layout.value_end = event.end_mark
                data, size = anchors[event.anchor]
                add(data, size, event.start_mark)
            elif kind is document_start:
                documents += 1
                if documents > 1:
                    raise YamlProblem(event.start_mark, "more than one YAML document")
            elif kind is stream_end:
                break
    finally:
        loader.dispose()
    return root[0] if root else None


def _components_value(stack: list[_Frame]) -> bool:
    """The next node is the value of the top-level ``components`` key."""
    return len(stack) == 1 and stack[0].is_map and stack[0].key == "components"


def _note_scalar(layout: Layout, stack: list[_Frame], data: Any, event: Any) -> None:
    depth = len(stack)
    if depth == 1 and stack[0].is_map and stack[0].key is _NO_KEY and data == "components" and layout.key_start is None:
        layout.key_start, layout.key_end = event.start_mark, event.end_mark
    elif _components_value(stack):
        layout.value_end = event.end_mark
    elif depth == 3 and stack[2].is_map and stack[2].key in ("name", "builtin") and stack[0].is_map and stack[0].key == "components" and not stack[1].is_map and layout.items and layout.value_end is None:
        line, col, known = layout.items[-1]
        if stack[2].key == "name" or known is None:  # a builtin entry is named after its check
            layout.items[-1] = (line, col, data)


def _note_start(layout: Layout, stack: list[_Frame], is_map: bool, event: Any) -> None:
    if _components_value(stack) and not is_map and layout.value_end is None:
        layout.is_seq, layout.flow = True, bool(event.flow_style)
    elif len(stack) == 2 and stack[0].is_map and stack[0].key == "components" and not stack[1].is_map and is_map and layout.value_end is None:
        layout.items.append((event.start_mark.line, event.start_mark.column, None))


def yaml_config_error(path: str, exc: Exception) -> ConfigError:
    """The ``ConfigError`` (file, line, column) a YAML problem of ``path`` is."""
    import yaml

    if isinstance(exc, YamlProblem):
        return ConfigError(path, exc.line, exc.column, f"{exc.field}: {exc.message}" if exc.field else f"invalid YAML: {exc.message}")
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        return ConfigError(path, line, col, f"invalid YAML: {exc.problem or exc.context}")
    return ConfigError(path, 0, 0, f"invalid YAML: {exc}")


def parse_registry_text(text: str, path: str, *, layout: Layout | None = None) -> Result[Registry, ConfigError]:
    """Validate a registry file's text: YAML, then the schema, then the rules the schema
    cannot say (unique names, no built-in's name, regexes, filters, known stages)."""
    import yaml

    layout = layout or Layout()
    try:
        data = parse_yaml(text, layout)
    except (YamlProblem, yaml.YAMLError) as exc:
        return Failure(yaml_config_error(path, exc))
    except (RecursionError, MemoryError):  # pragma: no cover - the parser is iterative
        return Failure(ConfigError(path, 0, 0, "invalid YAML: too deeply nested or too large"))
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
        line, col = _locate(text, field)
        pretty = field.replace("$.", "").replace("$", "(top)")
        return Failure(ConfigError(path, line, col, f"{pretty}: {where[0]}"))
    builtins = _check_builtins(parsed)
    if isinstance(builtins, tuple):
        field, message = builtins
        line, col = _locate(text, "$." + field)
        return Failure(ConfigError(path, line, col, f"{field}: {message}"))
    parsed = builtins
    problem = _check_rules(parsed)
    if problem is not None:
        field, message = problem
        line, col = _locate(text, "$." + field)
        return Failure(ConfigError(path, line, col, f"{field}: {message}"))
    lines = tuple(line + 1 for line, _, _ in layout.items) if len(layout.items) == len(parsed.components) else ()
    return Success(Registry(
        path=path, entries=parsed.components, stages=dict(parsed.stages), exclude=parsed.exclude, lines=lines,
        default_install_hook_types=parsed.default_install_hook_types,
    ))  # fmt: skip


def _builtin_names() -> frozenset[str]:
    from omnibase.builtins import CHECKS

    return frozenset(CHECKS)


_NAME = re.compile(NAME_PATTERN)


def _check_rules(parsed: RegistryFile) -> tuple[str, str] | None:
    """The first rule ``parsed`` breaks, as (field path, message)."""
    seen: set[str] = set()
    reserved = _builtin_names() if parsed.components else frozenset()
    for i, entry in enumerate(parsed.components):
        if entry.name in seen:
            return f"components[{i}].name", f"duplicate name '{entry.name}'"
        if not _NAME.match(entry.name):
            return f"components[{i}].name", f"'{entry.name}' may use A-Z a-z 0-9 _ . - only"
        if entry.name in reserved and entry.builtin != entry.name:  # a builtin entry may configure its own check
            return f"components[{i}].name", f"'{entry.name}' is the name of a built-in check; choose another"
        if sum(x is not None for x in (entry.command, entry.python, entry.builtin, entry.repo)) != 1:
            return f"components[{i}]", "give exactly one of 'command', 'python', 'builtin' or 'repo'"
        if entry.repo is not None:
            from omnibase.repos import unsupported

            why = unsupported(entry.repo.language)
            if why:
                return f"components[{i}].repo.language", why
        if entry.command is not None and not entry.command:
            return f"components[{i}].command", "an empty command"
        for key in ("input", "output"):  # the type names of docs/reference/types.md
            from omnibase.core.types import TYPE_NAMES, is_type_name

            if not is_type_name(getattr(entry, key)):
                known = ", ".join(TYPE_NAMES)
                return f"components[{i}].{key}", f"unknown type '{getattr(entry, key)}' (use one of {known})"
        for key in ("files", "exclude"):
            try:
                re.compile(getattr(entry, key))
            except (re.error, RecursionError, OverflowError) as err:
                return f"components[{i}].{key}", f"bad regex: {err}"
        seen.add(entry.name)
    from omnibase.core.select import parse_filter

    for stage, config in parsed.stages.items():
        if stage not in STAGE_DEFAULTS:
            return f"stages.{stage}", f"unknown stage '{stage}' (known: {', '.join(STAGE_DEFAULTS)})"
        bad = parse_filter(config.filter or "")
        if isinstance(bad, Failure):
            return f"stages.{stage}.filter", bad.failure().message
    try:
        re.compile(parsed.exclude)
    except (re.error, RecursionError, OverflowError) as err:
        return "exclude", f"bad regex: {err}"
    return None


def _check_builtins(parsed: RegistryFile) -> RegistryFile | tuple[str, str]:
    """Built-in entries named after their check when unnamed, their ``args`` parsed with
    the reference hook's flags; ``args`` on another entry is an error. The first problem
    as (field path, message)."""
    entries = []
    for i, entry in enumerate(parsed.components):
        if entry.builtin is None:
            if entry.args and entry.repo is None:
                return f"components[{i}].args", "only a 'builtin' entry takes args, or a 'repo' one"
            if not entry.name:
                return f"components[{i}]", "'name' is required"
            entries.append(entry)
            continue
        from omnibase.builtins import CHECKS, options_from_args

        if entry.builtin not in CHECKS:
            import difflib

            close = difflib.get_close_matches(entry.builtin, list(CHECKS), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else " (docs/builtins.md lists them)"
            return f"components[{i}].builtin", f"no built-in named '{entry.builtin}'{hint}"
        for key in ("types", "types_or", "exclude_types", "env", "limits", "always_run"):
            if getattr(entry, key):  # the built-in's own; settings of a command
                return f"components[{i}].{key}", (
                    "not for a 'builtin' entry (it has its hook's types and runs in-process); "
                    "use files/exclude to choose files"
                )
        try:
            options_from_args(entry.builtin, entry.args)
        except ValueError as exc:
            return f"components[{i}].args", f"{entry.builtin}: {exc}"
        entries.append(entry if entry.name else msgspec.structs.replace(entry, name=entry.builtin))
    return msgspec.structs.replace(parsed, components=tuple(entries))


def locate(path: str, field: str) -> tuple[int, int]:
    """The line and column of ``field`` (msgspec's path, ``$.components[2].needs``) in the
    registry file at ``path``; (0, 0) when it cannot be found."""
    try:
        with open(path, encoding="utf-8") as f:
            return _locate(f.read(), field)
    except (OSError, UnicodeDecodeError, ValueError):
        return 0, 0


_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


class _Cursor:
    __slots__ = ("as_key", "expect_key", "index", "is_map", "key", "key_mark")

    def __init__(self, is_map: bool, as_key: bool) -> None:
        self.is_map = is_map
        self.as_key = as_key
        self.expect_key = is_map
        self.key: Any = None
        self.key_mark: Any = None
        self.index = 0


def _locate(text: str, field: str) -> tuple[int, int]:
    """The line and column of the YAML node at msgspec's path (``$.a[2].b``), or of the
    deepest part of that path the text has; a key with an empty value points at the key."""
    import yaml
    from yaml import events as ev

    target: list[object] = [m.group(1) if m.group(1) is not None else int(m.group(2)) for m in _STEP.finditer(field)]
    best, best_len = (0, 0), -1
    stack: list[_Cursor] = []

    def advance() -> None:
        if stack:
            top = stack[-1]
            if top.is_map:
                top.expect_key = True
            else:
                top.index += 1

    try:
        for event in _yaml_events(text):
            kind = type(event)
            if kind is ev.MappingEndEvent or kind is ev.SequenceEndEvent:
                done = stack.pop()
                if done.as_key and stack:
                    stack[-1].key, stack[-1].expect_key = None, False
                else:
                    advance()
                continue
            starts = kind is ev.MappingStartEvent or kind is ev.SequenceStartEvent
            if not (starts or kind is ev.ScalarEvent or kind is ev.AliasEvent):
                continue
            if stack and stack[-1].is_map and stack[-1].expect_key:
                top = stack[-1]
                if starts:
                    stack.append(_Cursor(kind is ev.MappingStartEvent, as_key=True))
                else:
                    top.key = getattr(event, "value", None)
                    top.key_mark, top.expect_key = event.start_mark, False
                continue
            if not any(c.as_key for c in stack):
                here = [c.key if c.is_map else c.index for c in stack]
                if len(here) > best_len and here == target[: len(here)]:
                    mark = event.start_mark
                    if kind is ev.ScalarEvent and event.value == "" and event.implicit[0] and stack and stack[-1].is_map:
                        mark = stack[-1].key_mark
                    best, best_len = (mark.line + 1, mark.column + 1), len(here)
                    if best_len == len(target):
                        return best
            if starts:
                stack.append(_Cursor(kind is ev.MappingStartEvent, as_key=False))
            else:
                advance()
    except (yaml.YAMLError, RecursionError):
        pass
    return best
