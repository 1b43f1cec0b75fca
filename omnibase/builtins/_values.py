"""The values the built-in checks produce and take: findings, edits, verdicts, options.

Every one is a frozen ``msgspec.Struct``. Nothing here does I/O: an ``Edit`` carries the
new content of a file as bytes, and only ``omnibase.builtins._run.apply_edits`` writes it.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "AstOpts",
    "CaseConflictOpts",
    "Edit",
    "EndOfFileOpts",
    "Finding",
    "JsonOpts",
    "LargeFilesOpts",
    "MergeConflictOpts",
    "MixedLineEndingOpts",
    "PrivateKeyOpts",
    "RepoFacts",
    "TomlOpts",
    "TrailingWhitespaceOpts",
    "Verdict",
    "YamlOpts",
    "sha256",
]


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data`` (how an ``Edit`` names the content it applies to)."""
    import hashlib  # loaded on first use: start-up of commands that check nothing stays short

    return hashlib.sha256(data).hexdigest()


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """One thing a check found; ``message`` reads like pre-commit-hooks' output line."""

    path: str
    line: int | None = None
    message: str


class Edit(msgspec.Struct, frozen=True, kw_only=True):
    """A fixer's change to one file, as a value.

    ``content`` is the whole new file. ``original`` is the content the fixer saw, and
    ``original_sha256`` its hash: ``apply_edits`` writes ``content`` only if the file on
    disk still hashes to ``original_sha256``, so edits of several fixers to one file
    apply as a chain, in order, and a file changed meanwhile is left alone.
    """

    path: str
    original_sha256: str
    content: bytes
    original: bytes = b""

    @classmethod
    def make(cls, path: str, original: bytes, content: bytes) -> Edit:
        """The edit turning ``original`` into ``content``."""
        return cls(path=path, original_sha256=sha256(original), content=content, original=original)

    def diff(self) -> str:
        """A unified diff (``a/path`` -> ``b/path``) for display.

        Bytes that are not UTF-8 show as ``\\xNN``; a carriage return shows as ``\\r``
        so that a change of line endings is visible; a last line without a newline
        gets git's ``\\ No newline at end of file`` marker.
        """
        import difflib

        def lines(data: bytes) -> list[str]:
            # split on LF only: a lone CR or a form feed is part of its line, as in git
            parts = data.decode("utf-8", "backslashreplace").split("\n")
            out = []
            for i, body in enumerate(parts):
                last = i == len(parts) - 1
                if last and not body:
                    break
                shown = body.replace("\r", "\\r") + "\n"
                out.append(shown + "\\ No newline at end of file\n" if last else shown)
            return out

        return "".join(
            difflib.unified_diff(lines(self.original), lines(self.content), f"a/{self.path}", f"b/{self.path}")
        )


class Verdict(msgspec.Struct, frozen=True, kw_only=True):
    """What one check concluded about one path.

    ``ok`` is False whenever ``edit`` is set: a fixer that changes a file fails, as in
    pre-commit. ``findings`` say why in the reference tool's words.
    """

    check: str
    path: str
    ok: bool
    findings: tuple[Finding, ...] = ()
    edit: Edit | None = None


class RepoFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What the whole-set checks need to know, gathered by the edge (git, stat).

    ``paths`` are the files the check receives (after type filtering); ``sizes`` their
    sizes in bytes; ``added`` the paths staged for addition; ``tracked`` every path git
    tracks; ``lfs`` the paths whose ``filter`` attribute is ``lfs``.
    """

    paths: tuple[str, ...] = ()
    sizes: dict[str, int] = {}
    added: frozenset[str] = frozenset()
    tracked: frozenset[str] = frozenset()
    lfs: frozenset[str] = frozenset()


# --- options: one Struct per check, mirroring the reference's command-line flags --------


class _Opts(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class YamlOpts(_Opts, frozen=True, kw_only=True):
    """``--allow-multiple-documents`` and ``--unsafe`` (parse only; implies multi)."""

    allow_multiple_documents: bool = False
    unsafe: bool = False


class JsonOpts(_Opts, frozen=True, kw_only=True):
    pass


class TomlOpts(_Opts, frozen=True, kw_only=True):
    pass


class AstOpts(_Opts, frozen=True, kw_only=True):
    pass


class PrivateKeyOpts(_Opts, frozen=True, kw_only=True):
    pass


class EndOfFileOpts(_Opts, frozen=True, kw_only=True):
    pass


class CaseConflictOpts(_Opts, frozen=True, kw_only=True):
    pass


class MergeConflictOpts(_Opts, frozen=True, kw_only=True):
    """``assume_in_merge``: check even when git is not mid-merge. The edge sets it
    when git is mid-merge, so the pure check never asks git."""

    assume_in_merge: bool = False


class TrailingWhitespaceOpts(_Opts, frozen=True, kw_only=True):
    """``markdown_linebreak_ext``: extensions (or ``*``) whose two-space line breaks are
    kept; ``chars``: the characters to strip (default: all ASCII whitespace)."""

    markdown_linebreak_ext: tuple[str, ...] = ()
    chars: str | None = None

    def __post_init__(self) -> None:
        # the reference rejects these at argument parsing; so do we, at option parsing
        if "" in self.markdown_linebreak_ext:
            raise ValueError("markdown_linebreak_ext requires a non-empty argument")
        for ext in ",".join(self.markdown_linebreak_ext).split(","):
            if any(c in ext.lstrip(".") for c in "./\\:"):
                raise ValueError(f"bad markdown_linebreak_ext extension {ext!r} (has . / \\ :)")


class MixedLineEndingOpts(_Opts, frozen=True, kw_only=True):
    """``fix``: ``auto`` (to the most common ending), ``no`` (report only), or a target."""

    fix: Literal["auto", "no", "lf", "crlf", "cr"] = "auto"


class LargeFilesOpts(_Opts, frozen=True, kw_only=True):
    """``maxkb`` (sizes round up to whole KiB); ``enforce_all``: not just added files."""

    maxkb: int = 500
    enforce_all: bool = False
