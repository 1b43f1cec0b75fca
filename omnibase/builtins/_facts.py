"""The edge for the checks that need git state or the user's environment.

``repo_facts`` asks git (and the file system) exactly what one whole-set check needs and
returns it as a ``RepoFacts`` value; ``edge_options`` fills in options only the edge can
know (the AWS secrets detect-aws-credentials looks for). The checks themselves stay pure.
Every git question is asked once for the whole repository, without pathspecs (so no
command line grows with the number of files, and no file name is read as a pattern).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from omnibase.builtins._values import AwsCredentialsOpts, RepoFacts

__all__ = ["AWS_CREDENTIAL_FILES", "aws_secrets", "edge_options", "repo_facts"]


def _git(root: str, *args: str) -> bytes | None:
    from returns.result import Success

    from omnibase._io.git import git

    done = git(args, root)
    return done.unwrap() if isinstance(done, Success) else None


def _records(out: bytes | None) -> list[str]:
    return [r for r in (out or b"").decode("utf-8", "surrogateescape").split("\0") if r]


def index_modes(root: str, wanted: Sequence[str]) -> dict[str, str]:
    """The index mode of each of ``wanted`` that git tracks (``git ls-files -s``)."""
    keep = set(wanted)
    out: dict[str, str] = {}
    for record in _records(_git(root, "ls-files", "-z", "--stage")):
        meta, _, path = record.partition("\t")
        if path in keep:
            out.setdefault(path, meta.split(" ", 1)[0])
    return out


def _file_mode(root: str) -> bool:
    value = _git(root, "config", "core.fileMode")
    return value is None or value.strip() != b"false"


def _shebang(root: str, paths: Sequence[str], starts: tuple[frozenset[str], frozenset[str]] | None) -> frozenset[str]:
    """Those of ``paths`` that start with ``#!``; ``starts``: what is known already (the
    files whose first bytes were read, those of them that start so)."""
    read, known = starts or (frozenset(), frozenset())
    found = {p for p in paths if p in known}
    for p in paths:
        if p in read:
            continue
        try:
            with open(os.path.join(root, p), "rb") as f:
                if f.read(2) == b"#!":
                    found.add(p)
        except OSError:
            pass
    return frozenset(found)


def _blob(root: str, sha: str) -> bytes:
    return _git(root, "cat-file", "blob", sha) or b""


def symlink_changes(root: str, wanted: Sequence[str]) -> dict[str, tuple[bytes, bytes]]:
    """Paths that are symlinks in HEAD and regular files in the index, with both blobs
    (``git status --porcelain=v2``: ordinary changed entries)."""
    keep = set(wanted)
    out = {}
    for record in _records(_git(root, "status", "--porcelain=v2", "-z", "--untracked-files=no")):
        fields = record.split(" ", 8)
        if len(fields) < 9 or fields[0] != "1":
            continue
        _, _, _, mode_head, mode_index, _, sha_head, sha_index, path = fields
        if path in keep and mode_head == "120000" and mode_index not in ("120000", "000000"):
            out[path] = (_blob(root, sha_head), _blob(root, sha_index))
    return out


def added_modes(root: str, wanted: Sequence[str], env: Mapping[str, str]) -> dict[str, str]:
    """The new mode of each of ``wanted`` that the change adds: the staged change, or
    ``PRE_COMMIT_FROM_REF...PRE_COMMIT_TO_REF`` when both are set (a push)."""
    if "PRE_COMMIT_FROM_REF" in env and "PRE_COMMIT_TO_REF" in env:
        span = f"{env['PRE_COMMIT_FROM_REF']}...{env['PRE_COMMIT_TO_REF']}"
    else:
        span = "--staged"
    keep = set(wanted)
    records = _records(_git(root, "diff", "--diff-filter=A", "--raw", "-z", span))
    out = {}
    for meta, path in zip(records[::2], records[1::2]):  # ":000000 160000 ... A", path
        parts = meta.split(" ")
        if path in keep and len(parts) > 1:
            out[path] = parts[1]
    return out


def current_branch(root: str) -> str | None:
    """The branch checked out (``git symbolic-ref HEAD`` without ``refs/heads/``)."""
    ref = _git(root, "symbolic-ref", "HEAD")
    if ref is None:
        return None
    return "/".join(ref.decode("utf-8", "surrogateescape").strip().split("/")[2:])


def repo_facts(
    root: str, name: str, paths: Sequence[str], starts: tuple[frozenset[str], frozenset[str]] | None = None,
) -> RepoFacts:
    """What check ``name`` needs to judge ``paths`` (``starts``: see ``_shebang``)."""
    p = tuple(paths)
    if name == "check-executables-have-shebangs":
        file_mode = _file_mode(root)
        return RepoFacts(paths=p, file_mode=file_mode, modes={} if file_mode else index_modes(root, p),
                         shebang=_shebang(root, p, starts))
    if name == "check-shebang-scripts-are-executable":
        return RepoFacts(paths=p, modes=index_modes(root, p), shebang=_shebang(root, p, starts))
    if name == "check-symlinks":
        full = {x: os.path.join(root, x) for x in p}
        return RepoFacts(paths=p, dangling=frozenset(x for x in p if os.path.islink(full[x])
                                                     and not os.path.exists(full[x])))
    if name == "destroyed-symlinks":
        return RepoFacts(paths=p, symlink_changes=symlink_changes(root, p) if p else {})
    if name == "forbid-new-submodules":
        return RepoFacts(paths=p, added_modes=added_modes(root, p, os.environ) if p else {})
    if name == "no-commit-to-branch":
        return RepoFacts(paths=p, branch=current_branch(root))
    return RepoFacts(paths=p)


#: Where the reference looks for AWS secrets before any ``--credentials-file``.
AWS_CREDENTIAL_FILES = ("~/.aws/config", "~/.aws/credentials", "/etc/boto.cfg", "~/.boto")
_AWS_FILE_VARS = ("AWS_CONFIG_FILE", "AWS_CREDENTIAL_FILE", "AWS_SHARED_CREDENTIALS_FILE", "BOTO_CONFIG")
_AWS_SECRET_VARS = ("AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN")
_AWS_SECRET_KEYS = ("aws_secret_access_key", "aws_security_token", "aws_session_token")


def _secrets_in(path: str) -> set[str]:
    """The secrets in one credential file, as the reference reads them (a missing or
    unreadable file, or one with no section header, holds none). Where the reference
    crashes on the file instead, no secret in it is dropped: a duplicated section or
    option gives every value written for a secret key; a line that is no option leaves
    the rest of the file read; bytes that are not UTF-8 are kept as they are; a value
    whose ``%`` does not interpolate is taken as written."""
    import configparser
    import io

    full = os.path.expanduser(path)
    try:
        with open(full, "rb") as f:
            data = f.read()
    except OSError:  # ConfigParser.read, which the reference calls, skips such a file too
        return set()

    def text() -> io.TextIOWrapper:  # as open() reads it: universal newlines
        return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="surrogateescape")

    parser = configparser.ConfigParser()
    try:
        parser.read_file(text(), full)
    except configparser.MissingSectionHeaderError:
        return set()
    except (configparser.DuplicateSectionError, configparser.DuplicateOptionError):
        return _every_secret_value(text(), full)
    except configparser.ParsingError:
        pass  # raised once the whole file was read: what parsed is there
    found = set()
    for section in parser.sections():
        for key in _AWS_SECRET_KEYS:
            if not parser.has_option(section, key):
                continue
            try:
                value = parser.get(section, key)
            except configparser.InterpolationError:
                value = parser.get(section, key, raw=True)
            if value.strip():
                found.add(value.strip())
    return found


def _every_secret_value(stream: Any, name: str) -> set[str]:
    """Every value a secret key is given anywhere in an ini file, duplicates included
    (a lenient parser that records each value as it is read, before a later one
    replaces it)."""
    import configparser

    values: list[list[str]] = []

    class _Recording(dict[str, Any]):
        def __setitem__(self, key: str, value: Any) -> None:
            if key in _AWS_SECRET_KEYS and isinstance(value, list):
                values.append(value)  # the parser appends continuation lines to this list
            super().__setitem__(key, value)

    parser = configparser.ConfigParser(strict=False, dict_type=_Recording, interpolation=None)
    try:
        parser.read_file(stream, name)
    except configparser.Error:
        pass  # what was read is recorded
    return {joined for lines in values if (joined := "\n".join(lines).strip())}


def aws_secrets(extra_files: Sequence[str], env: Mapping[str, str]) -> frozenset[str]:
    """The AWS secrets in the credential files (the defaults, ``extra_files``, those the
    environment names) and in the environment, as the reference gathers them."""
    files = {*AWS_CREDENTIAL_FILES, *extra_files, *(env[v] for v in _AWS_FILE_VARS if v in env)}
    found: set[str] = set()
    for path in files:
        found |= _secrets_in(path)
    found |= {env[v] for v in _AWS_SECRET_VARS if env.get(v)}
    return frozenset(found)


def edge_options(parsed: dict[str, Any]) -> dict[str, Any]:
    """``parsed`` (check name -> options) with what only the edge knows filled in."""
    aws = parsed.get("detect-aws-credentials")
    if isinstance(aws, AwsCredentialsOpts) and not aws.secrets:
        secrets = aws_secrets(aws.credentials_files, os.environ)
        parsed = {**parsed, "detect-aws-credentials": msgspec.structs.replace(aws, secrets=secrets)}
    return parsed
