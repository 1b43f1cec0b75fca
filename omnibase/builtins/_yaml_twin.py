"""check-yaml's fallback when ``ruamel.yaml`` is not installed: PyYAML, ruamel-style.

PyYAML's pure-Python reader, scanner and parser (ruamel.yaml's ancestor), with what
ruamel.yaml 0.19's safe loader does differently where it decides pass or fail: YAML 1.2
implicit types (1.1 under a ``%YAML 1.1`` directive), duplicate keys and duplicate merge
keys are errors (except in a mapping with merges), list keys become tuples, anchors may
be redefined and named with any non-flow characters, tabs separate tokens inside flow
collections, and the same NaN object for every ``.nan``. Known differences that remain
(a scanner rewrite each): a top-level block scalar at zero indentation, NEL / LS / PS
as line breaks, ``?`` inside plain scalars in flow context, a document of just ``: ``.

Nothing here touches the disk: ``yaml_error_pyyaml`` takes bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from types import GeneratorType
from typing import Any

__all__ = ["yaml_error_pyyaml"]


def _exhaust(items: Any) -> None:
    for _ in items:
        pass


_RESOLVERS_12: list[tuple[str, str, str]] = [
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (
        "float",
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        "-+0123456789.",
    ),
    ("int", r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$", "-+0123456789"),
]
_RESOLVERS_11: list[tuple[str, str, str]] = [
    ("bool", r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
     "yYnNtTfFoO"),
    (
        "float",
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        "-+0123456789.",
    ),
    (
        "int",
        r"""^(?:[-+]?0b[0-1_]+|[-+]?0?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+
        |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$""",
        "-+0123456789",
    ),
]
_RESOLVERS_BOTH: list[tuple[str, str, str]] = [
    ("merge", r"^(?:<<)$", "<"),
    ("null", r"^(?:~|null|Null|NULL|)$", "~nN\0"),
    (
        "timestamp",
        r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?
        :[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        "0123456789",
    ),
    ("value", r"^(?:=)$", "="),
]

_LOADER: list[Any] = []
_NAN = float("nan")


def _anchor_char(ch: str) -> bool:
    if ch in ",[]{}" or ch == "\uFEFF":
        return False
    return "!" <= ch <= "~" or "\xA0" <= ch <= "\uD7FF" or "\uE000" <= ch <= "\uFFFD" or ch >= "\U00010000"


def _first_chars(tables: list[tuple[str, str, str]]) -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    out: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for name, pattern, first in tables:
        compiled = re.compile(pattern, re.X)
        for ch in first:
            out.setdefault("" if ch == "\0" else ch, []).append((f"tag:yaml.org,2002:{name}", compiled))
    return out


def _pyyaml_loader() -> Any:
    """A PyYAML loader class that resolves and constructs as ruamel.yaml's safe loader."""
    if _LOADER:
        return _LOADER[0]
    import yaml
    from yaml.composer import Composer
    from yaml.constructor import ConstructorError, SafeConstructor
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.resolver import BaseResolver
    from yaml.scanner import Scanner, ScannerError

    tables = {
        (1, 2): _first_chars(_RESOLVERS_12 + _RESOLVERS_BOTH),
        (1, 1): _first_chars(_RESOLVERS_11 + _RESOLVERS_BOTH),
    }

    class Resolver(BaseResolver):
        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is ScalarNode and implicit[0]:
                version = getattr(self, "yaml_version", None) or (1, 2)
                for tag, regexp in tables[version].get(value[:1], ()):
                    if regexp.match(value):
                        return tag
            fallback: Callable[..., Any] = BaseResolver.resolve  # untyped in the stubs
            return fallback(self, kind, value, implicit)

    class TwinScanner(Scanner):
        def scan_to_next_token(self) -> None:
            me: Any = self
            if me.index == 0 and me.peek() == "\uFEFF":
                me.forward()
            while True:
                blanks = " \t" if me.flow_level else " "  # YAML 1.2: tabs separate in flow context
                while me.peek() in blanks:
                    me.forward()
                if me.peek() == "#":
                    while me.peek() not in "\0\r\n\x85\u2028\u2029":
                        me.forward()
                if not me.scan_line_break():
                    return
                if not me.flow_level:
                    me.allow_simple_key = True

        def scan_anchor(self, token_class: Any) -> Any:
            me: Any = self
            start = me.get_mark()
            name = "alias" if me.peek() == "*" else "anchor"
            me.forward()
            length = 0
            while _anchor_char(me.peek(length)):  # YAML 1.2 anchor names: any but flow indicators
                length += 1
            ch = me.peek(length)
            if not length or ch not in "\0 \t\r\n\x85\u2028\u2029?:,[]{}%@`":
                raise ScannerError(f"while scanning an {name}", start,
                                   f"expected alphabetic or numeric character, but found {ch!r}", me.get_mark())
            value = me.prefix(length)
            me.forward(length)
            return token_class(value, start, me.get_mark())

    class TwinComposer(Composer):
        def compose_node(self, parent: Any, index: Any) -> Any:
            parser: Any = self  # the Parser half of the loader this composes into
            event = parser.peek_event()
            anchor = getattr(event, "anchor", None)
            if anchor is not None and not isinstance(event, yaml.AliasEvent):
                self.anchors.pop(anchor, None)  # YAML 1.2 lets an anchor be redefined
            return super().compose_node(parent, index)

    class Constructor(SafeConstructor):
        def construct_object(self, node: Any, deep: bool = False) -> Any:
            if node in self.constructed_objects:
                return self.constructed_objects[node]
            if deep:
                old_deep, self.deep_construct = self.deep_construct, True
            if node in self.recursive_objects:
                return None  # ruamel.yaml yields None for a recursive reference
            self.recursive_objects[node] = None
            constructor: Callable[..., Any] = self.yaml_constructors.get(node.tag, Constructor.construct_undefined)
            data = constructor(self, node)
            if isinstance(data, GeneratorType):  # a two-step constructor (recursive structures)
                generator, data = data, next(data)
                if self.deep_construct:
                    _exhaust(generator)
                else:
                    self.state_generators.append(generator)
            self.constructed_objects[node] = data
            del self.recursive_objects[node]
            if deep:
                self.deep_construct = old_deep
            return data

        def flatten_mapping(self, node: Any) -> None:
            merge: list[Any] = []
            index, seen_merge = 0, False
            while index < len(node.value):
                key_node, value_node = node.value[index]
                if key_node.tag == "tag:yaml.org,2002:merge":
                    if seen_merge:
                        raise ConstructorError("while constructing a mapping", node.start_mark,
                                               'found duplicate merge key "<<"', key_node.start_mark)
                    seen_merge = True
                    del node.value[index]
                    if isinstance(value_node, MappingNode):
                        self.flatten_mapping(value_node)
                        merge.extend(value_node.value)
                    elif isinstance(value_node, SequenceNode):
                        parts = []
                        for sub in value_node.value:
                            if not isinstance(sub, MappingNode):
                                raise ConstructorError("while constructing a mapping", node.start_mark,
                                                       f"expected a mapping for merging, but found {sub.id}",
                                                       sub.start_mark)
                            self.flatten_mapping(sub)
                            parts.append(sub.value)
                        for part in reversed(parts):
                            merge.extend(part)
                    else:
                        raise ConstructorError("while constructing a mapping", node.start_mark,
                                               "expected a mapping or list of mappings for merging, "
                                               f"but found {value_node.id}", value_node.start_mark)
                else:
                    if key_node.tag == "tag:yaml.org,2002:value":
                        key_node.tag = "tag:yaml.org,2002:str"
                    index += 1
            if merge:
                node.merged = True  # ruamel.yaml checks no duplicates in a mapping with merges
                node.value = merge + node.value

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if not isinstance(node, MappingNode):
                raise ConstructorError(None, None, f"expected a mapping node, but found {node.id}", node.start_mark)
            self.flatten_mapping(node)
            check = not getattr(node, "merged", False)
            mapping: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, list):
                    key = tuple(key)
                if not isinstance(key, Hashable):
                    raise ConstructorError("while constructing a mapping", node.start_mark,
                                           "found unhashable key", key_node.start_mark)
                value = self.construct_object(value_node, deep=deep)
                if check and key in mapping:
                    raise ConstructorError("while constructing a mapping", node.start_mark,
                                           f'found duplicate key "{key}" with value "{value}" '
                                           f'(original value: "{mapping[key]}")', key_node.start_mark)
                mapping[key] = value
            return mapping

        def _version(self) -> tuple[int, int]:
            return getattr(self, "yaml_version", None) or (1, 2)

        def construct_yaml_bool(self, node: Any) -> Any:
            value = self.construct_scalar(node)
            return {"yes": True, "no": False, "y": True, "n": False, "true": True, "false": False,
                    "on": True, "off": False}[value.lower()]

        def construct_yaml_int(self, node: Any) -> Any:
            text = self.construct_scalar(node).replace("_", "")
            sign = -1 if text[0] == "-" else 1
            text = text[1:] if text[0] in "+-" else text
            if text == "0":
                return 0
            for prefix, base in (("0b", 2), ("0x", 16), ("0o", 8)):
                if text.startswith(prefix):
                    return sign * int(text[2:], base)
            if self._version() == (1, 1) and text[0] == "0":
                return sign * int(text, 8)
            if self._version() == (1, 1) and ":" in text:
                total = 0
                for part in text.split(":"):
                    total = total * 60 + int(part)
                return sign * total
            return sign * int(text)

        def construct_yaml_float(self, node: Any) -> Any:
            text = self.construct_scalar(node).replace("_", "").lower()
            sign = -1 if text[0] == "-" else 1
            text = text[1:] if text[0] in "+-" else text
            if text == ".inf":
                return sign * float("inf")
            if text == ".nan":
                return _NAN  # one object, as in ruamel.yaml: two .nan keys are duplicates
            if self._version() != (1, 2) and ":" in text:
                total = 0.0
                for part in text.split(":"):
                    total = total * 60 + float(part)
                return sign * total
            return sign * float(text)

        def construct_yaml_omap(self, node: Any) -> Any:
            omap: dict[Any, Any] = {}
            yield omap
            for key, value in self.construct_yaml_pairs_list(node):
                if key in omap:
                    raise ConstructorError(None, None, "duplicate key in an ordered map", node.start_mark)
                omap[key] = value

        def construct_yaml_pairs_list(self, node: Any) -> list[tuple[Any, Any]]:
            if not isinstance(node, SequenceNode):
                raise ConstructorError(None, None, f"expected a sequence, but found {node.id}", node.start_mark)
            pairs = []
            for sub in node.value:
                if not isinstance(sub, MappingNode) or len(sub.value) != 1:
                    raise ConstructorError(None, None, "expected a single mapping item", sub.start_mark)
                key_node, value_node = sub.value[0]
                pairs.append((self.construct_object(key_node), self.construct_object(value_node)))
            return pairs

        def construct_yaml_pairs(self, node: Any) -> Any:
            pairs: list[tuple[Any, Any]] = []
            yield pairs
            pairs.extend(self.construct_yaml_pairs_list(node))

    Constructor.yaml_constructors = dict(SafeConstructor.yaml_constructors)
    for name in ("bool", "int", "float", "omap", "pairs"):
        Constructor.yaml_constructors[f"tag:yaml.org,2002:{name}"] = getattr(Constructor, f"construct_yaml_{name}")
    Constructor.yaml_constructors.pop("tag:yaml.org,2002:value", None)

    class Loader(Reader, TwinScanner, Parser, TwinComposer, Constructor, Resolver):
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            TwinScanner.__init__(self)
            Parser.__init__(self)
            TwinComposer.__init__(self)
            Constructor.__init__(self)
            Resolver.__init__(self)

    _LOADER.append((Loader, yaml.YAMLError))
    return _LOADER[0]


def yaml_error_pyyaml(content: bytes, path: str, *, multi: bool, unsafe: bool) -> str | None:
    """``yaml_error`` on PyYAML, following ruamel.yaml's resolution and construction rules."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"{path}: UnicodeDecodeError: {exc}"
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # text mode's universal newlines
    loader_cls, yaml_error_cls = _pyyaml_loader()
    loader = None
    try:
        loader = loader_cls(text)
        loader.name = path
        if unsafe:
            while loader.check_event():
                version = getattr(loader.get_event(), "version", None)
                if version not in (None, (1, 1), (1, 2)):  # ruamel.yaml knows only these
                    raise ValueError(f"version minor part can only be 2 or 1, got {version}")
        elif multi:
            while loader.check_data():
                loader.get_data()
        else:
            loader.get_single_data()
    except yaml_error_cls as exc:
        return str(exc)
    except Exception as exc:  # the reference crashes (and so fails) on these
        return f"{path}: {type(exc).__name__}: {exc}"
    finally:
        if loader is not None:
            loader.dispose()
    return None
