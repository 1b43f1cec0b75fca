"""The one place omnibase runs ``git`` (an edge: runs a subprocess), and the file
selections asked of it (which files a stage looks at).

Every call returns a ``Result``: git missing, or git exiting non-zero, is a ``GitError``
value naming git's own last line of complaint, never an exception. Output is bytes;
``text`` decodes it with ``surrogateescape`` so any path round-trips.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence

import msgspec
from returns.result import Failure, Result, Success

__all__ = [
    "FileScopeError",
    "GitError",
    "Pending",
    "RepoPaths",
    "Staged",
    "GitStatus",
    "all_files",
    "changed_files",
    "commit_of",
    "environ_elsewhere",
    "existing",
    "explicit_files",
    "git",
    "git_dir_of",
    "git_text",
    "index_tree",
    "repo_paths",
    "repo_paths_ahead",
    "settle_ahead",
    "repo_root",
    "staged",
    "status",
    "status_of",
    "status_started",
    "text",
    "tree_of",
    "zsplit",
]


class GitError(msgspec.Struct, frozen=True):
    """Why a git command did not give an answer; ``code`` is its exit status (-1: not run)."""

    message: str
    code: int = -1


def git(
    args: Sequence[str],
    cwd: str,
    *,
    stdin: bytes | None = None,
    ok_codes: tuple[int, ...] = (0,),
    env: Mapping[str, str] | None = None,
    elsewhere: bool = False,
) -> Result[bytes, GitError]:
    """``git ARGS`` in ``cwd``: its stdout, or why not. Exit codes in ``ok_codes`` count as
    an answer (``git diff --exit-code`` says "there is a difference" with 1).
    ``elsewhere``: the command is about another repository than the one a git hook runs
    in (a hook repository's clone), so the variables git gives a hook that point at the
    user's repository (``GIT_DIR``, ``GIT_INDEX_FILE``, ...) are left out."""
    if elsewhere:
        env = {**environ_elsewhere(), **(env or {})}
    elif env is not None:
        env = {**os.environ, **env}
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            check=False,
            env=env,
        )
    except OSError as exc:
        return Failure(GitError(f"cannot run git: {exc.strerror or exc}"))
    return _answer(args, done.returncode, done.stdout, done.stderr, ok_codes)


#: What git sets for a hook (or a user sets) to point git at a repository and its index.
_REPOSITORY_VARIABLES = frozenset(
    {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
     "GIT_COMMON_DIR", "GIT_PREFIX", "GIT_NAMESPACE", "GIT_QUARANTINE_PATH"}
)  # fmt: skip


def environ_elsewhere() -> dict[str, str]:
    """Our environment without the variables that point git at the user's repository: for
    git, and tools that ask git (a build backend reading its version from tags), working
    on another repository while a git hook runs."""
    return {k: v for k, v in os.environ.items() if k not in _REPOSITORY_VARIABLES}


def _answer(args: Sequence[str], code: int, out: bytes, err: bytes, ok_codes: tuple[int, ...] = (0,)) -> Result[bytes, GitError]:
    if code not in ok_codes:
        lines = err.decode("utf-8", "replace").strip().splitlines()
        return Failure(GitError(lines[-1] if lines else f"git {args[0]} exited {code}", code))
    return Success(out)


class Pending:
    """A git call running in the background while this process does other work (it has
    a core of its own on any machine with two): ``answer()`` waits for what ``git`` would
    have returned, ``cancel()`` stops it. Either may be called more than once."""

    def __init__(self, args: Sequence[str], cwd: str) -> None:
        self._args = list(args)
        self._result: Result[bytes, GitError] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        try:
            self._proc = subprocess.Popen(
                ["git", *args], cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError as exc:
            self._result = Failure(GitError(f"cannot run git: {exc.strerror or exc}"))

    def answer(self) -> Result[bytes, GitError]:
        if self._result is None and self._proc is not None:
            out, err = self._proc.communicate()
            self._result = _answer(self._args, self._proc.returncode, out, err)
        assert self._result is not None
        return self._result

    def cancel(self) -> None:
        if self._result is None and self._proc is not None:
            self._proc.kill()
            self._proc.communicate()
            self._result = Failure(GitError(f"git {self._args[0]} cancelled"))


def text(out: bytes) -> str:
    """git's output as text; undecodable bytes survive as surrogates."""
    return out.decode("utf-8", "surrogateescape")


def git_text(args: Sequence[str], cwd: str) -> Result[str, GitError]:
    """``git`` with its output decoded (see ``text``)."""
    return git(args, cwd).map(text)


def zsplit(out: bytes | str) -> list[str]:
    """The entries of ``-z`` output (NUL-separated), decoded."""
    data = text(out) if isinstance(out, bytes) else out
    return [p for p in data.split("\0") if p]


# --- which files a stage looks at ----------------------------------------------------------


class FileScopeError(msgspec.Struct, frozen=True):
    message: str


class RepoPaths(msgspec.Struct, frozen=True):
    """The work tree's top, its absolute git directory, and the git directory it shares
    with its linked worktrees (the same folder outside linked worktrees)."""

    root: str
    git_dir: str
    common_dir: str = ""


_FOUND: dict[tuple[str, ...], RepoPaths] = {}
#: ``repo_paths``'s git calls started ahead (``repo_paths_ahead``), by the same key as ``_FOUND``.
_AHEAD: dict[tuple[str, ...], Pending] = {}
_REV_PARSE = ("rev-parse", "--show-toplevel", "--absolute-git-dir", "--git-common-dir")


def _paths_key(cwd: str) -> tuple[str, ...]:
    return (os.path.abspath(cwd), *(os.environ.get(k, "") for k in ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR")))


def repo_paths_ahead(cwd: str = ".") -> None:
    """Start ``repo_paths``'s git call for ``cwd`` in the background, for a caller that
    will ask soon (the git hook's run: its first question): the next ``repo_paths`` for
    the same folder and git variables takes that answer instead of waiting for a call of
    its own. Nothing when the answer is known or asked already."""
    key = _paths_key(cwd)
    if key not in _FOUND and key not in _AHEAD:
        _AHEAD[key] = Pending(_REV_PARSE, key[0])


def settle_ahead() -> None:
    """Wait for every git call ``repo_paths_ahead`` started (its answer is kept for the next
    ``repo_paths``): a caller that started one and then did not ask leaves no child behind."""
    for pending in list(_AHEAD.values()):
        pending.answer()


def repo_paths(cwd: str = ".") -> Result[RepoPaths, FileScopeError]:
    """Where the work tree containing ``cwd`` starts, and where its git directories are:
    the one place omnibase finds the git directory. git's own answer (one ``git rev-parse``,
    so ``GIT_DIR``, ``.git`` files and worktrees count as git counts them), asked once per
    process for a folder and the git variables of the environment."""
    key = _paths_key(cwd)
    here, env = key[0], key[1:]
    known = _FOUND.get(key)
    if known is not None:
        return Success(known)
    ahead = _AHEAD.pop(key, None)
    found = ahead.answer() if ahead is not None else git(_REV_PARSE, here)
    if isinstance(found, Failure):
        return Failure(FileScopeError(found.failure().message))
    lines = found.unwrap().decode("utf-8", "surrogateescape").splitlines()
    if len(lines) != 3:  # a bare repository has no work tree
        return Failure(FileScopeError("not inside a git work tree"))
    paths = RepoPaths(root=lines[0], git_dir=lines[1], common_dir=os.path.normpath(os.path.join(here, lines[2])))
    _FOUND[(here, *env)] = _FOUND[(os.path.abspath(paths.root), *env)] = paths
    return Success(paths)


def git_dir_of(root: str, given: str = "") -> str | None:
    """The git directory of the work tree at ``root``: ``given`` (what the caller was told,
    relative to ``root`` or absolute) when it names a folder, else ``repo_paths``'s answer;
    None outside a git work tree."""
    if given:
        full = os.path.join(root, given)
        return full if os.path.isdir(full) else None
    found = repo_paths(root)
    return found.unwrap().git_dir if isinstance(found, Success) else None


def repo_root(cwd: str = ".") -> Result[str, FileScopeError]:
    """The top of the git work tree containing ``cwd``."""
    return repo_paths(cwd).map(lambda p: p.root)


def _existing(root: str, out: bytes) -> tuple[str, ...]:
    """The paths of ``out`` (``-z`` output) that exist under ``root`` (``os.path.lexists``)."""
    return tuple(existing(root, zsplit(out)))


def existing(root: str, paths: Sequence[str]) -> list[str]:
    """Those of ``paths`` (relative to ``root``) that exist, as ``os.path.lexists`` says, in
    their order: a folder's listing answers for all its files at once (a tree of 50,000
    files is a few hundred listings, not 50,000 ``lstat`` calls). A name found in the
    listing of a folder that can be searched exists; any other path is asked alone (a
    file system that ignores case or normalizes names may find it under another name)."""
    folders: dict[str, frozenset[str] | None] = {}
    out: list[str] = []
    for path in paths:
        folder, _, name = path.rpartition("/")
        if folder not in folders:
            folders[folder] = _listing(os.path.join(root, folder), name)
        names = folders[folder]
        if (names is not None and name in names) or os.path.lexists(os.path.join(root, path)):
            out.append(path)
    return out


def _listing(folder: str, name: str) -> frozenset[str] | None:
    """The names in ``folder`` when they can be trusted to ``lstat`` (the folder can be
    searched, which ``name`` proves when it is listed and ``lstat`` finds it), else None."""
    try:
        names = frozenset(os.listdir(folder or "."))
    except OSError:
        return None
    if not names:
        return names
    probe = name if name in names else next(iter(names))
    return names if os.path.lexists(os.path.join(folder, probe)) else None


class Staged(msgspec.Struct, frozen=True):
    """What a commit would take: the paths, and those of them that are new."""

    paths: tuple[str, ...]
    added: frozenset[str]


def staged(root: str) -> Result[Staged, FileScopeError]:
    """Files added, copied, modified or renamed in the index (what a commit would take),
    that still exist in the work tree, and which of them are added (one git call)."""
    found = git(["diff", "--cached", "--name-status", "--diff-filter=ACMR", "-z", "--no-ext-diff", "--no-renames"], root)
    if isinstance(found, Failure):
        return Failure(FileScopeError(found.failure().message))
    fields = zsplit(found.unwrap())
    pairs = list(zip(fields[0::2], fields[1::2]))
    return Success(
        Staged(
            paths=tuple(p for _, p in pairs if os.path.lexists(os.path.join(root, p))),
            added=frozenset(p for status, p in pairs if status == "A"),
        )
    )


class GitStatus(msgspec.Struct, frozen=True):
    """One ``git status`` of the tracked files: ``(letter, path)`` pairs as ``git diff
    --cached --name-status --diff-filter=ACMR`` (``staged``: the index against HEAD) and
    ``git diff --name-status`` (``unstaged``: the work tree against the index; ``U`` for a
    path with conflicts) would list them, without renames or submodules."""

    staged: tuple[tuple[str, str], ...]
    unstaged: tuple[tuple[str, str], ...]

    def staged_now(self, root: str) -> Staged:
        """``staged(root)``'s answer from this status: the staged paths that exist in the
        work tree now (after the unstaged changes stepped aside, say), and the added ones."""
        return Staged(
            paths=tuple(p for _, p in self.staged if os.path.lexists(os.path.join(root, p))),
            added=frozenset(p for letter, p in self.staged if letter == "A"),
        )


#: ``git status`` as ``status`` asks it: ``--no-optional-locks`` so that, like ``git diff``,
#: it never writes the index; ``--ignore-submodules=dirty`` so that a submodule whose commit
#: is staged is listed (as ``git diff --cached`` lists it) without looking inside any.
_STATUS = ("--no-optional-locks", "status", "--porcelain=v2", "-z", "--untracked-files=no", "--no-renames", "--ignore-submodules=dirty")


def status_started(root: str) -> Pending:
    """``status`` started in the background: ``status_of(pending.answer())`` is its answer."""
    return Pending(_STATUS, root)


def status(root: str) -> Result[GitStatus, GitError]:
    """Both differences a pre-commit run asks about, in one git call instead of two ``git
    diff``."""
    return status_of(git(_STATUS, root))


def status_of(found: Result[bytes, GitError]) -> Result[GitStatus, GitError]:
    """``status``'s answer from the output of its git call."""
    if isinstance(found, Failure):
        return Failure(found.failure())
    staged: list[tuple[str, str]] = []
    unstaged: list[tuple[str, str]] = []
    fields = text(found.unwrap()).split("\0")
    i = 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        kind = entry[:2]
        if kind == "u ":  # a path with conflicts (version 2 tells them apart: "DD" is not one)
            unstaged.append(("U", entry.split(" ", 10)[10]))
            continue
        if kind not in ("1 ", "2 "):  # the empty field after the last NUL
            continue
        parts = entry.split(" ", 8 if kind == "1 " else 9)
        code, submodule, path = parts[1], parts[2].startswith("S"), parts[-1]
        if kind == "2 ":  # a rename or copy (not with --no-renames): its source path follows
            i += 1
        if code[0] in "ACMR":
            staged.append((code[0], path))
        if code[1] != "." and not submodule:  # the stash leaves submodules alone (``git diff --ignore-submodules``)
            unstaged.append((code[1], path))
    return Success(GitStatus(staged=tuple(staged), unstaged=tuple(unstaged)))


def index_tree(root: str) -> Result[str, FileScopeError]:
    """The id of the tree in the index (``git write-tree``): what a commit would hold now,
    and ``HEAD^{tree}`` right after that commit."""
    found = git(["write-tree"], root)
    if isinstance(found, Failure):
        return Failure(FileScopeError(found.failure().message))
    return Success(found.unwrap().decode("utf-8", "replace").strip())


def all_files(root: str) -> Result[tuple[str, ...], FileScopeError]:
    """Every file git tracks, plus files staged for addition."""
    return git(["ls-files", "-z", "--cached"], root).map(lambda out: _existing(root, out)).alt(
        lambda e: FileScopeError(e.message)
    )


def commit_of(root: str, ref: str) -> Result[str, FileScopeError]:
    """The id of the commit a user-given ``ref`` names. git is told where its options end
    (``--end-of-options``), so a ref spelled like an option (``--output=/etc/passwd``) is a
    name that names nothing, never an option: every user-given ref reaches git through
    here or ``tree_of``, and only the id git answers goes further."""
    return _named(root, ref, "commit")


def tree_of(root: str, ref: str) -> Result[str, FileScopeError]:
    """The id of the tree a user-given ``ref`` names (a commit's tree, or a tree itself: a
    push of a root commit is checked from the empty tree), asked as ``commit_of`` asks."""
    return _named(root, ref, "tree")


def _named(root: str, ref: str, kind: str) -> Result[str, FileScopeError]:
    found = git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{{kind}}}"], root)
    if isinstance(found, Failure):
        return Failure(FileScopeError(f"{ref}: not a {kind} in this repository"))
    return Success(text(found.unwrap()).strip())


def changed_files(root: str, old: str, new: str) -> Result[tuple[str, ...], FileScopeError]:
    """Files added, copied, modified or renamed between two commits (what a push sends);
    ``old`` and ``new`` may come from the user (``tree_of`` checks them first)."""
    ids = tree_of(root, old).bind(lambda a: tree_of(root, new).map(lambda b: (a, b)))
    if isinstance(ids, Failure):
        return Failure(ids.failure())
    a, b = ids.unwrap()
    return (
        git(["diff", "--name-only", "--diff-filter=ACMR", "-z", "--no-ext-diff", a, b, "--"], root)
        .map(lambda out: _existing(root, out))
        .alt(lambda e: FileScopeError(e.message))
    )


def explicit_files(root: str, cwd: str, paths: Sequence[str]) -> Result[tuple[str, ...], FileScopeError]:
    """Paths given on the command line, made relative to ``root``; they must exist and be
    inside it (``omnibase._io.paths.contained``: a folder on the way may not lead out
    through a symlink; a symlink named itself is a file of the repository)."""
    from omnibase._io.paths import contained

    out: list[str] = []
    for p in paths:
        full = os.path.abspath(os.path.join(cwd, p))
        if not os.path.lexists(full):
            return Failure(FileScopeError(f"{p}: no such file"))
        inside = contained(root, full, follow_last=False)
        if isinstance(inside, Failure):
            return Failure(FileScopeError(f"{p}: outside the repository at {root}"))
        rel = os.path.relpath(inside.unwrap(), os.path.abspath(root))
        if os.path.isdir(full):
            for base, dirs, names in os.walk(full):
                dirs[:] = [d for d in dirs if d != ".git"]
                out.extend(os.path.relpath(os.path.join(base, n), root) for n in names)
        else:
            out.append(rel)
    return Success(tuple(dict.fromkeys(out)))
