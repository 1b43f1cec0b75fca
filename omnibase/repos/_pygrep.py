"""``language: pygrep``: fail when a regex matches in the files given (pre-commit's pygrep).

``python -I .../omnibase/repos/_pygrep.py [--ignore-case] [--multiline] [--negate] -- PATTERN FILE...``
prints ``file:line:text`` for each matching line (with ``--multiline``, the pattern runs
over the whole file and each match is printed from its first line), or with ``--negate``
the files in which it does not match; exit 1 when it printed anything. It imports only
the standard library: it runs as a script, without omnibase's start-up.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

__all__ = ["grep", "main"]


def grep(pattern: re.Pattern[bytes], path: str, data: bytes, *, multiline: bool, negate: bool) -> list[bytes]:
    """The lines to print for one file (none: it passes).

    >>> grep(re.compile(rb"TODO"), "a.py", b"x\\n# TODO\\n", multiline=False, negate=False)
    [b'a.py:2:# TODO\\n']
    """
    name = path.encode("utf-8", "surrogateescape")
    if multiline:
        found = list(pattern.finditer(data))
        if negate:
            return [name + b"\n"] if not found else []
        return [b"%s:%d:%s\n" % (name, data.count(b"\n", 0, m.start()) + 1, m.group(0).rstrip(b"\n")) for m in found]
    hits = [(n, line) for n, line in enumerate(data.splitlines(keepends=True), 1) if pattern.search(line)]
    if negate:
        return [name + b"\n"] if not hits else []
    return [b"%s:%d:%s" % (name, n, line if line.endswith(b"\n") else line + b"\n") for n, line in hits]


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="pygrep")
    parser.add_argument("-i", "--ignore-case", action="store_true")
    parser.add_argument("--multiline", action="store_true")
    parser.add_argument("--negate", action="store_true")
    parser.add_argument("pattern")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args(argv)
    flags = (re.IGNORECASE if args.ignore_case else 0) | (re.MULTILINE | re.DOTALL if args.multiline else 0)
    try:
        pattern = re.compile(args.pattern.encode("utf-8", "surrogateescape"), flags)
    except re.error as exc:
        print(f"pygrep: not a valid regex: {args.pattern!r}: {exc}", file=sys.stderr)
        return 2
    out = sys.stdout.buffer
    code = 0
    for path in args.files:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as exc:
            print(f"pygrep: {path}: {exc.strerror or exc}", file=sys.stderr)
            code = 1
            continue
        lines = grep(pattern, path, data, multiline=args.multiline, negate=args.negate)
        out.writelines(lines)
        code = code or int(bool(lines))
    out.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
