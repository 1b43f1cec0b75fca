r"""Keeping secrets and oversized text out of reports (pure functions; the callers pass the
environment in).

- ``is_secret_name(name)``: whether an environment variable's *name* looks secret: it
  contains one of ``SECRET_NAME_PARTS`` (case-insensitive), e.g. ``GITHUB_TOKEN``,
  ``AWS_SECRET_ACCESS_KEY``, ``DB_PASSWORD``, ``SESSION_COOKIE``, outside the words of
  ``NOT_SECRET_WORDS`` (``GIT_AUTHOR_NAME`` is no secret). The one list: reports redact
  these values, and commands are not given these variables unless asked.
- ``secret_values(env)``: the values of the variables whose names look secret. Values
  shorter than ``MIN_SECRET`` characters are left alone (they would blank out ordinary
  words and hide little).
- ``redact(text, secrets)``: every occurrence of each value replaced by ``[redacted]``.
- ``bound(text, limit)``: at most ``limit`` characters, then ``... N bytes more``.
- ``printable(text)``: valid UTF-8 text; bytes that were not UTF-8 (a file name decoded
  with ``surrogateescape``) shown as ``\xNN``.

>>> redact("token=abcd1234!", secret_values({"GITHUB_TOKEN": "abcd1234", "HOME": "/root"}))
'token=[redacted]!'
>>> bound("x" * 10, 4)
'xxxx\n... 6 bytes more'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["MAX_TEXT", "MIN_SECRET", "NOT_SECRET_WORDS", "SECRET_NAME_PARTS", "bound", "is_secret_name", "json_forms", "printable", "redact", "secret_values"]

#: The cap on one text a report keeps (1 MiB): a command's output (its last this many
#: bytes when it printed more), and any string a rendering quotes (this many characters).
#: Generous on purpose: a linter's findings are kept whole in every machine format.
MAX_TEXT = 1024 * 1024

#: An environment variable is secret when its name contains one of these (``PASSW`` covers
#: ``PASSWORD`` and ``PASSWD``).
SECRET_NAME_PARTS = ("TOKEN", "SECRET", "PASSW", "KEY", "CREDENTIAL", "PRIVATE", "AUTH", "COOKIE", "SESSION")
#: Words that hold a part of ``SECRET_NAME_PARTS`` but name no secret, when no letter
#: follows them: git's ``GIT_AUTHOR_NAME``/``_EMAIL``/``_DATE`` (set for hooks during a
#: commit) and ``*_AUTHORS``. ``AUTHORIZATION`` is still secret.
NOT_SECRET_WORDS = ("AUTHORS", "AUTHOR")
#: Shorter values are not redacted.
MIN_SECRET = 4

_SECRET_NAME = re.compile("|".join(SECRET_NAME_PARTS), re.IGNORECASE)
_NOT_SECRET_WORD = re.compile(f"(?:{'|'.join(NOT_SECRET_WORDS)})(?![A-Za-z])", re.IGNORECASE)
MASK = "[redacted]"


def is_secret_name(name: str) -> bool:
    """Whether the variable ``name`` holds a secret, by its name.

    >>> is_secret_name("GITHUB_TOKEN"), is_secret_name("db_passwd"), is_secret_name("HOME")
    (True, True, False)
    >>> is_secret_name("GIT_AUTHOR_NAME"), is_secret_name("HTTP_AUTHORIZATION")
    (False, True)
    """
    return any(_SECRET_NAME.search(part) for part in _NOT_SECRET_WORD.split(name))


def secret_values(env: Mapping[str, str]) -> tuple[str, ...]:
    """The values to hide, longest first (so a value containing another goes whole)."""
    found = {v for k, v in env.items() if len(v) >= MIN_SECRET and is_secret_name(k)}
    return tuple(sorted(found, key=lambda v: (-len(v), v)))


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced by ``[redacted]``."""
    for value in secrets:
        if value in text:
            text = text.replace(value, MASK)
    return text


def json_forms(secrets: Iterable[str]) -> tuple[str, ...]:
    """``secrets`` and the forms JSON gives them inside a string (quotes, backslashes and
    control characters escaped; non-ASCII as is or as ``\\uXXXX``), longest first: what
    ``redact`` needs to hide them in JSON text (a snapshot file).

    >>> json_forms(['a"b'])
    ('a\\\\"b', 'a"b')
    """
    import json

    forms = {f for s in secrets for f in (s, json.dumps(s)[1:-1], json.dumps(s, ensure_ascii=False)[1:-1])}
    return tuple(sorted(forms, key=lambda v: (-len(v), v)))


def bound(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with a marker saying how much was left out
    (counted in UTF-8 bytes of the rest)."""
    if len(text) <= limit:
        return text
    rest = text[limit:]
    return f"{text[:limit]}\n... {len(rest.encode('utf-8', 'surrogatepass'))} bytes more"


def printable(text: str) -> str:
    r"""``text`` as valid UTF-8: surrogate-escaped bytes shown as ``\xNN``, any other lone
    surrogate as ``\uXXXX``.

    >>> printable("bad\udcffname.txt")
    'bad\\xffname.txt'
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
