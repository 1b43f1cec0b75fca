r"""Keeping secrets and oversized text out of reports (pure functions; the callers pass the
environment in).

- ``secret_values(env)``: the values of environment variables whose *names* look secret:
  they contain one of ``SECRET_NAME_PARTS`` (case-insensitive), e.g. ``GITHUB_TOKEN``,
  ``AWS_SECRET_ACCESS_KEY``, ``DB_PASSWORD``. Values shorter than ``MIN_SECRET`` characters
  are left alone (they would blank out ordinary words and hide little).
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

__all__ = ["MAX_TEXT", "MIN_SECRET", "SECRET_NAME_PARTS", "bound", "printable", "redact", "secret_values"]

#: The cap on one text a report keeps (1 MiB): a command's output (its last this many
#: bytes when it printed more), and any string a rendering quotes (this many characters).
#: Generous on purpose: a linter's findings are kept whole in every machine format.
MAX_TEXT = 1024 * 1024

#: An environment variable is secret when its name contains one of these.
SECRET_NAME_PARTS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL", "PRIVATE", "AUTH")
#: Shorter values are not redacted.
MIN_SECRET = 4

_SECRET_NAME = re.compile("|".join(SECRET_NAME_PARTS), re.IGNORECASE)
MASK = "[redacted]"


def secret_values(env: Mapping[str, str]) -> tuple[str, ...]:
    """The values to hide, longest first (so a value containing another goes whole)."""
    found = {v for k, v in env.items() if _SECRET_NAME.search(k) and len(v) >= MIN_SECRET}
    return tuple(sorted(found, key=lambda v: (-len(v), v)))


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced by ``[redacted]``."""
    for value in secrets:
        if value in text:
            text = text.replace(value, MASK)
    return text


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
