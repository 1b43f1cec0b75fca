"""The values the built-in checks produce and take: findings, edits, verdicts, options.

Every one is a frozen ``msgspec.Struct``. Nothing here does I/O: an ``Edit`` carries the
new content of a file as bytes, and only ``omnibase.builtins._run.apply_edits`` writes it.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "failed",
    "passed",
    "AstOpts",
    "AwsCredentialsOpts",
    "BranchOpts",
    "BuiltinLiteralsOpts",
    "NameTestsOpts",
    "NoOpts",
    "PrettyJsonOpts",
    "SorterOpts",
    "VcsPermalinksOpts",
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
    from omnibase.core.digests import sha256 as hashed  # not hashlib: no OpenSSL to load

    return str(hashed(data).hexdigest())


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
    pre-commit. ``findings`` say why in the reference tool's words. ``misconfigured``: the
    check could not judge the file because what it was configured with is wrong or
    missing (the reference exits 2 there; so does a run, see ``ExitCode.CONFIG``).
    """

    check: str
    path: str
    ok: bool
    findings: tuple[Finding, ...] = ()
    edit: Edit | None = None
    misconfigured: bool = False

    @classmethod
    def of(cls, check: str, path: str, messages: list[str] | tuple[str, ...] = (), edit: Edit | None = None) -> Verdict:
        """The verdict with these messages (one finding each): failing when there are
        any or there is an edit."""
        findings = tuple(Finding(path=path, message=m) for m in messages)
        return cls(check=check, path=path, ok=not findings and edit is None, findings=findings, edit=edit)

    def reported(self) -> tuple[Finding, ...]:
        """What a report shows of this verdict: its findings; a failing verdict without
        any reads ``PATH: failed``."""
        if self.findings or self.ok:
            return self.findings
        return (Finding(path=self.path, message=f"{self.path}: failed"),)


def passed(check: str, path: str) -> Verdict:
    """``check`` found nothing wrong with ``path``."""
    return Verdict(check=check, path=path, ok=True)


def failed(check: str, path: str, message: str, line: int | None = None) -> Verdict:
    """``check`` failed ``path`` for one reason (at ``line`` when known)."""
    return Verdict(check=check, path=path, ok=False, findings=(Finding(path=path, line=line, message=message),))


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
    #: the index mode (``git ls-files -s``: ``100755``...) of each received path git tracks
    modes: dict[str, str] = {}
    #: ``core.fileMode`` is not ``false``: the work tree's executable bits are trusted
    file_mode: bool = True
    #: the received paths whose content starts with ``#!``
    shebang: frozenset[str] = frozenset()
    #: the received symlinks that point at nothing
    dangling: frozenset[str] = frozenset()
    #: paths that are a symlink in HEAD and a regular file in the index: the blob
    #: contents (HEAD, index), for destroyed-symlinks
    symlink_changes: dict[str, tuple[bytes, bytes]] = {}
    #: the new mode of each received path the change adds (``git diff --raw --diff-filter=A``)
    added_modes: dict[str, str] = {}
    #: the branch checked out (None: detached HEAD or no git)
    branch: str | None = None


# --- options: one Struct per check, mirroring the reference's command-line flags --------


class _Opts(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    def notice(self) -> tuple[str, ...]:
        """Lines the reference hook prints before its findings with these options
        (whatever it finds): none, unless an option says otherwise."""
        return ()


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
    kept; ``chars``: the characters to strip (default: all ASCII whitespace);
    ``no_markdown_linebreak_ext``: the reference's old flag, accepted, changes nothing
    (its ``notice`` says so, as the reference does)."""

    markdown_linebreak_ext: tuple[str, ...] = ()
    chars: str | None = None
    no_markdown_linebreak_ext: bool = False

    def notice(self) -> tuple[str, ...]:
        return ("--no-markdown-linebreak-ext now does nothing!",) if self.no_markdown_linebreak_ext else ()

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


class NoOpts(_Opts, frozen=True, kw_only=True):
    """The options of a check whose reference takes no flags."""


class BuiltinLiteralsOpts(_Opts, frozen=True, kw_only=True):
    """``--ignore`` (builtin names, comma-separated in the flag) and
    ``--no-allow-dict-kwargs`` (``dict(a=1)`` fails too)."""

    ignore: frozenset[str] = frozenset()
    allow_dict_kwargs: bool = True


class VcsPermalinksOpts(_Opts, frozen=True, kw_only=True):
    """``--additional-github-domain`` (repeatable): domains checked besides github.com."""

    additional_github_domains: tuple[str, ...] = ()


class AwsCredentialsOpts(_Opts, frozen=True, kw_only=True):
    """``--credentials-file`` (repeatable, added to the default files) and
    ``--allow-missing-credentials``. ``secrets`` are the keys to look for: the edge
    reads them from the credential files and the environment (never reported)."""

    credentials_files: tuple[str, ...] = ()
    allow_missing_credentials: bool = False
    secrets: frozenset[str] = frozenset()


class SorterOpts(_Opts, frozen=True, kw_only=True):
    """``--ignore-case`` or ``--unique`` (not both)."""

    ignore_case: bool = False
    unique: bool = False

    def __post_init__(self) -> None:
        if self.ignore_case and self.unique:
            raise ValueError("ignore_case and unique are mutually exclusive")


class NameTestsOpts(_Opts, frozen=True, kw_only=True):
    """Which names a test file must have: ``pytest`` (``*_test.py``, the default),
    ``pytest-test-first`` (``test_*.py``) or ``django`` / ``unittest`` (``test*.py``)."""

    style: Literal["pytest", "pytest-test-first", "django"] = "pytest"


class BranchOpts(_Opts, frozen=True, kw_only=True):
    """``--branch`` (repeatable; default ``master`` and ``main``) and ``--pattern``
    (repeatable regexes matched at the start of the branch name)."""

    branches: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()


class PrettyJsonOpts(_Opts, frozen=True, kw_only=True):
    """``--autofix``, ``--indent`` (spaces, or the string to indent with),
    ``--no-ensure-ascii``, ``--no-sort-keys``, ``--top-keys`` (keys kept first, in order)."""

    autofix: bool = False
    indent: int | str = 2
    ensure_ascii: bool = True
    sort_keys: bool = True
    top_keys: tuple[str, ...] = ()


class LargeFilesOpts(_Opts, frozen=True, kw_only=True):
    """``maxkb`` (sizes round up to whole KiB); ``enforce_all``: not just added files."""

    maxkb: int = 500
    enforce_all: bool = False
