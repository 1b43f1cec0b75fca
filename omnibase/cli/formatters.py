"""Renderers of a ``RunReport``: ``FORMATTERS`` maps a format name to one.

- ``human``: for people at a terminal (``omnibase.cli.formats.human``).
- ``json``: canonical (sorted keys, compact), with ``schema_version``; decodes back to an
  equal ``RunReport``.
- ``yaml``: block style; repeated component metadata is written once, as an anchor.

Through ``FORMATTERS`` every string a report quotes has the values of secret-looking
environment variables replaced by ``[redacted]``, is cut beyond ``MAX_TEXT`` characters
(with a "... N bytes more" marker) and made valid UTF-8: a file name that is not UTF-8
(bytes surrogate-escaped by the edge) shows its bad bytes as ``\\xNN`` (``clean``).
"""

from __future__ import annotations

import enum
import functools
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import msgspec

from omnibase.cli.formats import RENDERERS
from omnibase.cli.formats._lazy import LazyRenderers
from omnibase.core.redact import MAX_TEXT as _MAX_TEXT
from omnibase.core.values import RunReport

__all__ = ["FORMATTERS", "RenderOptions", "Renderer", "clean", "default_format", "detect_options", "json_schema"]

_T = TypeVar("_T")


class RenderOptions(msgspec.Struct, frozen=True, kw_only=True):
    color: bool = False
    emoji: bool = False
    width: int = 100
    verbose: int = 0


Renderer = Callable[[RunReport, RenderOptions], str]


def default_format(isatty: bool) -> str:
    """``human`` on a terminal, ``json`` otherwise (the spec's defaults)."""
    return "human" if isatty else "json"


def detect_options(*, isatty: bool, env: Mapping[str, str], no_color: bool, verbose: int = 0) -> RenderOptions:
    """Colour and emoji unless ``TERM=dumb``, ``CI=true``, ``--no-color`` or ``NO_COLOR``;
    colour also needs a terminal.

    >>> detect_options(isatty=True, env={"CI": "true"}, no_color=False)
    RenderOptions(color=False, emoji=False, width=100, verbose=0)
    """
    plain = (
        no_color
        or env.get("TERM") == "dumb"
        or env.get("CI", "").lower() in ("true", "1")
        or bool(env.get("NO_COLOR"))
    )
    return RenderOptions(color=isatty and not plain, emoji=not plain, verbose=verbose)


# --- json and yaml -------------------------------------------------------------------------------


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=repr)
    if isinstance(obj, bytes):
        return _safe_text(obj.decode("utf-8", "backslashreplace"), ())
    return _safe_text(repr(obj), ())  # a repr holding a secret was replaced by ``clean``


_ENCODER = msgspec.json.Encoder(enc_hook=_enc_hook, order="sorted")


def render_json(report: RunReport, opts: RenderOptions) -> str:
    return _ENCODER.encode(report).decode("utf-8") + "\n"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the ``json`` report."""
    schema: dict[str, Any] = msgspec.json.schema(RunReport)
    return schema


def render_yaml(report: RunReport, opts: RenderOptions) -> str:
    import json

    import yaml

    data = json.loads(render_json(report, opts))
    seen: dict[str, dict[str, Any]] = {}
    for step in data.get("steps", []):
        meta = step.get("meta")
        if isinstance(meta, dict):
            key = json.dumps(meta, sort_keys=True)
            step["meta"] = seen.setdefault(key, meta)  # the same object: PyYAML anchors it
    dumped: str = yaml.dump(data, Dumper=_yaml_dumper(), default_flow_style=False, sort_keys=False, allow_unicode=True)
    return dumped


@functools.cache
def _yaml_dumper() -> Any:
    """A ``SafeDumper`` that keeps line-break-like characters (built lazily: yaml is slow to import)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def represent_str(dumper: Any, value: str) -> Any:
        # PyYAML writes NEL and the Unicode line/paragraph separators raw in plain and
        # quoted scalars with allow_unicode, and reads them back as line breaks; quote
        # such strings with escapes (\N, \L, \P) so they survive.
        if any(c in value for c in "\x85\u2028\u2029"):
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
        return dumper.represent_str(value)

    Dumper.add_representer(str, represent_str)
    return Dumper


# --- what every format quotes: redacted, bounded, and printable in UTF-8 ------------------------

#: A string in a report (a value, an output, a message) is cut beyond this many characters
#: (``omnibase.core.redact.MAX_TEXT``, 1 MiB: a command's output is kept whole up to it).
MAX_TEXT = _MAX_TEXT


def clean(value: _T) -> _T:
    """``value`` (a report, an event, any struct or plain data) with every string in it
    cleaned for showing: the values of secret-looking environment variables replaced by
    ``[redacted]`` (``omnibase.core.redact``), then cut beyond ``MAX_TEXT`` characters and
    made valid UTF-8. The one point every rendering passes: ``FORMATTERS`` gives each
    renderer a cleaned report, and the ``jsonl`` stream cleans each event before writing it.
    Cleaning happens on values, before any format escapes them, so a secret is found
    whatever the format does to its characters afterwards. The same object comes back when
    nothing needed changing."""
    from omnibase.core.redact import secret_values

    return cast(_T, _safe_value(value, secret_values(os.environ)))


def _safe_text(text: str, secrets: tuple[str, ...]) -> str:
    from omnibase.core.redact import bound, printable, redact

    return printable(bound(redact(text, secrets) if secrets else text, MAX_TEXT))


_PLAIN = frozenset({int, float, bool, type(None)})


def _fine(item: Any, secrets: tuple[str, ...]) -> bool:
    """Nothing to change in ``item``: a number, an enum, a short ASCII string holding no
    secret (the common leaves, checked without a call per leaf when there are no secrets)."""
    kind = type(item)
    if kind is str:
        return len(item) <= MAX_TEXT and item.isascii() and not (secrets and any(s in item for s in secrets))
    return kind in _PLAIN or isinstance(item, enum.Enum)


def _safe_value(value: Any, secrets: tuple[str, ...], depth: int = 0) -> Any:
    """``value`` with every string in it redacted, bounded and made valid UTF-8 (the same
    object when nothing needed changing)."""
    kind = type(value)
    if kind is str:
        return _safe_text(value, secrets)
    if kind in _PLAIN:
        return value
    if depth > 200:
        return "... (nested too deep to show)"
    if isinstance(value, msgspec.Struct):
        changes = {}
        for name in value.__struct_fields__:
            old = getattr(value, name)
            if _fine(old, secrets):
                continue
            new = _safe_value(old, secrets, depth + 1)
            if new is not old:
                changes[name] = new
        return msgspec.structs.replace(value, **changes) if changes else value
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value[: MAX_TEXT * 4]).decode("utf-8", "backslashreplace")
        more = f"\n... {len(value) - MAX_TEXT * 4} bytes more" if len(value) > MAX_TEXT * 4 else ""
        return _safe_text(text + more, secrets)
    if isinstance(value, (list, tuple, set, frozenset)):
        if all(_fine(v, secrets) for v in value):
            return value
        items = [_safe_value(v, secrets, depth + 1) for v in value]
        if all(new is old for new, old in zip(items, value)):
            return value
        if isinstance(value, (set, frozenset)):
            return frozenset(items)
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        if all(_fine(k, secrets) and _fine(v, secrets) for k, v in value.items()):
            return value
        pairs = [(_safe_value(k, secrets, depth + 1), _safe_value(v, secrets, depth + 1)) for k, v in value.items()]
        if all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(pairs, value.items())):
            return value
        return dict(pairs)
    if secrets:  # written as its repr by the encoders' hook: redacted here, bounded there
        shown = repr(value)
        return _safe_text(shown, secrets) if any(s in shown for s in secrets) else value
    return value  # other objects are written as their repr, bounded by the encoder's hook


def _safe(render: Renderer) -> Renderer:
    def safe_render(report: RunReport, opts: RenderOptions) -> str:
        return render(clean(report), opts)

    safe_render.__name__ = render.__name__
    return safe_render


#: Every format, from the table in omnibase/cli/formats/__init__.py, each renderer imported
#: when first used and given the report cleaned (``clean``: secrets redacted, every quoted
#: string bounded and valid UTF-8).
FORMATTERS: Mapping[str, Renderer] = LazyRenderers(RENDERERS, wrap=_safe)
