"""Check exactly what will be committed: unstaged changes step aside while the checks run.

Before a pre-commit run on the staged files:

1. the tracked files whose working-tree content differs from the index (one ``git
   status``; intent-to-add files, submodules, ``assume-unchanged`` and ``skip-worktree``
   files are not among them and are never touched) are copied, byte for byte with their
   full mode (or a symlink's target, or "deleted"), into one file under
   ``.git/omnibase/patches/`` that is fsynced before anything else happens: from then on
   the user's unstaged work exists on disk outside the working tree. No diff is taken, so
   no textconv, ``diff.context``, ``core.autocrlf`` or other diff setting can change what
   is kept;
2. exactly those paths are checked out from the index (``git checkout-index -f``), so the
   checks see byte for byte what the commit will contain; nothing else is written;
3. after the checks (and the fixers' writes), every saved file is written back as it was
   (atomically: a kill never leaves it half written or missing). A file a fixer changed
   meanwhile is merged with the user's version (``git merge-file``, on raw bytes); if that
   conflicts, the fixers' changes to every file are undone and the user's files written
   back: the user's work wins, and the run says the fixes were rolled back. The saved file
   is deleted only once everything is back.

Signals (SIGINT, SIGTERM, SIGHUP) are held back during steps 1-2 and 3 (``deferred_signals``)
and act when the step is done. A run killed at any point (even by SIGKILL) leaves the saved
file in place; the next run refuses to start over it and names ``omnibase restore``, which
puts it back (``restore_leftovers``). An exclusive lock (``.git/omnibase/stash.lock``) is held
by every entry point that touches the saved work: the run from before step 1 to after step
3, and ``restore``. ``precommit._supervise`` runs the checks in a child process so that
nothing the checks do can skip step 3.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import msgspec
from returns.result import Failure, Result, Success

from omnibase._io.git import GitError, GitStatus, Pending, git, status, status_of, status_started
from omnibase._io.state import make_state_dir, patches_dir, stash_lock, state_dir

__all__ = [
    "Lookahead",
    "StashError",
    "Stashed",
    "deferred_signals",
    "drop_early",
    "early_status",
    "leftover_notice",
    "leftover_patches",
    "look_ahead",
    "look_ahead_early",
    "restore_leftovers",
    "staged_only",
    "unusable",
]

#: What a run saves today; ``.patch`` files are git diffs left by older versions.
SAVED = ".stash"
_LEGACY = ".patch"
_NO_SUBMODULES = ("-c", "submodule.recurse=0")


class StashError(msgspec.Struct, frozen=True):
    """Why the unstaged changes could not be set aside or put back (exit code 2)."""

    message: str


class Entry(msgspec.Struct, frozen=True, array_like=True):
    """One tracked path as the working tree held it: ``mode`` is ``st_mode`` (file type and
    every permission bit), 0 for a path the user deleted; ``data`` the bytes of a file or
    the target of a symlink."""

    path: bytes
    mode: int
    data: bytes
    uid: int = -1
    gid: int = -1


class _Saved(msgspec.Struct, frozen=True):
    version: int
    entries: list[Entry]


class Stashed(msgspec.Struct, kw_only=True):
    """What a run set aside, and how putting it back went."""

    patch: str | None = None  # the saved file under .git/omnibase/patches/
    entries: list[Entry] = msgspec.field(default_factory=list)
    base: dict[bytes, Entry] = msgspec.field(default_factory=dict)  # what the checks were given
    rolled_back: bool = False  # the fixers' changes conflicted and were undone
    error: str | None = None  # the work could not be put back; it is kept at ``patch``
    worktree_is_index: bool = False  # set aside: tracked files hold what the index does
    status: GitStatus | None = None  # what git said was staged and unstaged before


# --- signals ------------------------------------------------------------------------------

_DEFERRED = ("SIGINT", "SIGTERM", "SIGHUP")


@contextmanager
def deferred_signals() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP are blocked inside the block (the git commands it runs
    inherit the mask, so a Ctrl-C cannot stop them half way either) and delivered when it
    ends. Nested blocks keep them blocked until the outermost ends."""
    import signal

    wanted = {getattr(signal, name) for name in _DEFERRED}
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, wanted)
    except (AttributeError, OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


# --- the saved work ----------------------------------------------------------------------


def _patch_dir(gitdir: str) -> str:
    return patches_dir(state_dir(gitdir))


def leftover_patches(gitdir: str) -> list[str]:
    """What interrupted runs left (saved files, and older versions' patches), oldest first."""
    folder = _patch_dir(gitdir)
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith((SAVED, _LEGACY)))
    except OSError:
        return []
    return [os.path.join(folder, n) for n in names]


def leftover_notice(gitdir: str) -> str | None:
    """The line every command that would touch the working tree prints while an interrupted
    run's work is set aside (None when nothing is)."""
    found = leftover_patches(gitdir)
    if not found:
        return None
    return (
        f"an interrupted run left your unstaged changes in {found[0]}"
        + (f" (and {len(found) - 1} more)" if len(found) > 1 else "")
        + "; run 'omnibase restore' to put them back into the working tree"
    )


def _encode(entries: Sequence[Entry]) -> bytes:
    return msgspec.msgpack.encode(_Saved(version=1, entries=list(entries)))


def _decode(data: bytes) -> list[Entry]:
    return msgspec.msgpack.decode(data, type=_Saved).entries


def _full(root: str, rel: bytes) -> bytes:
    return os.path.join(os.fsencode(root), rel)


def capture(root: str, rel: bytes) -> Entry:
    """The working tree's ``rel`` as an ``Entry`` (OSError for a folder or anything that
    is neither a file nor a symlink: git tracks no such thing there)."""
    full = _full(root, rel)
    try:
        st = os.lstat(full)
    except FileNotFoundError:
        return Entry(rel, 0, b"")
    if stat.S_ISLNK(st.st_mode):
        return Entry(rel, st.st_mode, os.readlink(full), st.st_uid, st.st_gid)
    if not stat.S_ISREG(st.st_mode):
        raise IsADirectoryError(0, "not a file (git tracks a file there)", os.fsdecode(rel))
    with open(full, "rb") as f:
        return Entry(rel, st.st_mode, f.read(), st.st_uid, st.st_gid)


def put_back(root: str, entry: Entry) -> None:
    """Make the working tree's ``entry.path`` exactly ``entry``: replaced in one rename (a
    kill leaves the old file or the new one, never none), or removed for a deletion."""
    from omnibase._io.atomic import write_atomic

    full = _full(root, entry.path)
    if entry.mode == 0:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(full)
        return
    os.makedirs(os.path.dirname(full), exist_ok=True)
    if stat.S_ISLNK(entry.mode):
        tmp = full + b".omnibase-" + os.urandom(6).hex().encode()
        os.symlink(entry.data, tmp)
        os.replace(tmp, full)
        return
    uid = entry.uid if entry.uid >= 0 else os.getuid()
    gid = entry.gid if entry.gid >= 0 else os.getgid()
    like = os.stat_result((entry.mode, 0, 0, 1, uid, gid, len(entry.data), 0, 0, 0))
    if os.path.isdir(full) and not os.path.islink(full):
        raise IsADirectoryError(0, "a folder is in the way", os.fsdecode(full))
    write_atomic(os.fsdecode(full), entry.data, durable=False, like=like)


def _save(gitdir: str, entries: Sequence[Entry]) -> str:
    """Write the user's files, durably, under ``.git/omnibase/patches/`` (0600)."""
    from omnibase._io.atomic import write_atomic

    made = make_state_dir(_patch_dir(gitdir), mode=0o700)  # real folders of ours, no symlink
    if isinstance(made, Failure):
        raise OSError(0, made.failure().message)
    path = os.path.join(made.unwrap(), f"{time.time_ns()}-{os.getpid()}{SAVED}")
    write_atomic(path, _encode(entries), durable=True, mode=0o600)
    return path


def _remove_partial_saves(gitdir: str) -> None:
    """The temporary file of a save a kill cut short holds nothing the working tree lacks
    (the tree is changed only after the save is complete); the lock holder removes it."""
    folder = _patch_dir(gitdir)
    with contextlib.suppress(OSError):
        for name in os.listdir(folder):
            if name.startswith(".omnibase-"):
                os.unlink(os.path.join(folder, name))


def _checkout(root: str, paths: Sequence[bytes]) -> Result[bytes, GitError]:
    """Check ``paths`` out from the index (paths on stdin: no argument list is too long)."""
    if not paths:
        return Success(b"")
    return git([*_NO_SUBMODULES, "checkout-index", "-f", "-z", "--stdin"], root, stdin=b"\0".join(paths) + b"\0")


# --- restoring what an interrupted run left ----------------------------------------------


def _restore_legacy(root: str, patch: str, *, force: bool) -> Result[str, StashError]:
    """A git diff left by an older omnibase: applied with ``git apply``."""
    def apply(*extra: str) -> Result[bytes, GitError]:
        return git(["apply", "--whitespace=nowarn", *extra, patch], root)

    if isinstance(apply("--check"), Success):
        result = apply().map(lambda _: "applied")
    elif isinstance(apply("--reverse", "--check"), Success):
        result = Success("present")
    elif force:
        now = git(["diff", "--binary", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/"], root)
        saved = patch[: -len(_LEGACY)] + ".before-restore.diff"
        if isinstance(now, Success) and now.unwrap().strip():
            from omnibase._io.atomic import write_atomic

            write_atomic(saved, now.unwrap(), mode=0o600)
        result = (
            git([*_NO_SUBMODULES, "checkout", "--", "."], root)
            .bind(lambda _: apply())
            .map(
                lambda _: f"applied over the index (the working tree's changes before it: {saved})"
                if os.path.exists(saved)
                else "applied over the index"
            )
        )
    else:
        return Failure(StashError(_no_longer_applies(patch, [])))
    if isinstance(result, Failure):
        return Failure(StashError(f"cannot apply {patch}: {result.failure().message}"))
    os.unlink(patch)
    return Success(result.unwrap())


def _no_longer_applies(saved: str, paths: Sequence[bytes]) -> str:
    which = f" ({', '.join(os.fsdecode(p) for p in paths[:3])}{', ...' if len(paths) > 3 else ''})" if paths else ""
    return (
        f"an interrupted run left your unstaged changes in {saved} and the working tree has changed "
        f"since{which}; run 'omnibase restore --force' to put them back anyway (what those files hold "
        "now is kept beside it)"
    )


def _restore_saved(root: str, saved: str, *, force: bool) -> Result[str, StashError]:
    """Write an interrupted run's saved files back. A path is written back when it holds
    what the index does (the run had checked it out), is missing (a checkout was cut
    short) or already holds the user's version; any other content (edited since) stops it
    unless ``force``, which first keeps that content beside the saved file."""
    try:
        with open(saved, "rb") as f:
            entries = _decode(f.read())
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        return Failure(StashError(f"cannot read {saved}: {exc}"))
    found = status(root)
    if isinstance(found, Failure):
        return Failure(StashError(f"cannot read the working tree's state: {found.failure().message}"))
    # an intent-to-add path differs too: whatever it holds is not the index's (a saved file
    # made intent-to-add and edited since must not be written over)
    differs = {os.fsencode(p) for _, p in found.unwrap().unstaged}
    mine = {e.path for e in entries}
    # a tracked file an interrupted checkout removed (it is not the user's deletion: that
    # is in the saved file) comes back from the index before anything else
    missing = [os.fsencode(p) for letter, p in found.unwrap().unstaged if letter == "D" and os.fsencode(p) not in mine]
    if missing:
        back = _checkout(root, missing)
        if isinstance(back, Failure):
            name = os.fsdecode(missing[0])
            return Failure(StashError(f"cannot check out {name} from the index: {back.failure().message}"))
    changed: list[Entry] = []
    for entry in entries:
        try:
            now = capture(root, entry.path)
        except OSError:
            changed.append(Entry(entry.path, -1, b""))
            continue
        if now.mode == 0 or entry.path not in differs or (now.mode, now.data) == (entry.mode, entry.data):
            continue
        changed.append(now)
    how = "applied"
    if changed:
        if not force:
            return Failure(StashError(_no_longer_applies(saved, [e.path for e in changed])))
        kept = saved[: -len(SAVED)] + ".before-restore"
        from omnibase._io.atomic import write_atomic

        write_atomic(kept, _encode([e for e in changed if e.mode >= 0]), mode=0o600)
        how = f"applied over the working tree (what {len(changed)} file(s) held before it: {kept})"
    try:
        for entry in entries:
            put_back(root, entry)
    except OSError as exc:
        why = f"cannot write {exc.filename or ''} back: {exc.strerror or exc}"
        return Failure(StashError(f"{why}; your work is still in {saved}"))
    os.unlink(saved)
    return Success(how)


def restore_leftovers(root: str, gitdir: str, *, force: bool = False) -> Result[list[tuple[str, str]], StashError]:
    """Put back everything interrupted runs left, holding the stash lock (a run that is
    setting work aside right now is waited for a few seconds, then left alone); ``(saved
    file, how)`` for each."""
    problem = unusable(gitdir)
    if problem is not None:
        return Failure(problem)
    with _lock(gitdir, wait=5.0) as held:
        if held is None:
            return Failure(StashError(
                "a pre-commit run is setting your unstaged changes aside right now (it holds "
                f"{stash_lock(state_dir(gitdir))}); let it finish, then run 'omnibase restore' again"
            ))
        done: list[tuple[str, str]] = []
        _remove_partial_saves(gitdir)
        with deferred_signals():
            for saved in leftover_patches(gitdir):
                how = (_restore_legacy if saved.endswith(_LEGACY) else _restore_saved)(root, saved, force=force)
                if isinstance(how, Failure):
                    return Failure(how.failure())
                done.append((saved, how.unwrap()))
        return Success(done)


def unusable(gitdir: str) -> StashError | None:
    """Why the state folder cannot hold the stash (a symlink, not ours), checked before the
    lock is taken in it; None when it can (it is made then)."""
    made = make_state_dir(state_dir(gitdir))
    if isinstance(made, Failure):
        return StashError(f"cannot set the unstaged changes aside: {made.failure().message}")
    return None


@contextmanager
def _lock(gitdir: str, *, wait: float | None = None) -> Iterator[int | None]:
    """The stash lock: its fd once held; with ``wait``, None when it is still held by
    someone else after that many seconds."""
    import fcntl

    fd = os.open(stash_lock(state_dir(gitdir)), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        if wait is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
            return
        end = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > end:
                    yield None
                    return
                time.sleep(0.05)
        yield fd
    finally:
        os.close(fd)


class Lookahead:
    """The stash's lock, taken early, and its ``git status`` running in the background
    while the run is set up (registry, plan, imports): the git call costs no wall time on
    a machine with a core to spare. Taken only when nobody else holds the lock and no
    interrupted run left work behind, so that the status is the one the stash would have
    read (the lock keeps any other omnibase run from changing the working tree meanwhile).
    ``close()`` lets go of both; ``staged_only`` uses it and leaves closing to its owner."""

    def __init__(self, fd: int, pending: Pending) -> None:
        self.fd: int | None = fd
        self.pending = pending

    def close(self) -> None:
        self.pending.cancel()
        if self.fd is not None:
            os.close(self.fd)  # releases the lock
            self.fd = None


def look_ahead(root: str, gitdir: str) -> Lookahead | None:
    """A ``Lookahead``, or None when the lock is held by another run, work is left over,
    or the lock file is not there yet (``staged_only`` then does as it always does). It
    writes nothing: a run refused later (a bad option, a broken registry) leaves no trace,
    not even the lock file, which only a stash creates. The git hook's early one
    (``look_ahead_early``) is taken when it was started for this ``root`` and ``gitdir``."""
    early = _take_early(root, gitdir)
    if early is not None:
        return early
    import fcntl

    try:
        fd = os.open(stash_lock(state_dir(gitdir)), os.O_RDWR | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    if leftover_patches(gitdir):
        os.close(fd)
        return None
    return Lookahead(fd, status_started(root))


#: The git hook's ``Lookahead``, started before git said where the repository is: (the
#: work tree's top and git directory it was started for, it). At most one.
_EARLY: list[tuple[str, str, Lookahead]] = []
_GIT_PLACE = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR")


def look_ahead_early(cwd: str) -> None:
    """Start the stash's ``look_ahead`` for the repository git runs a hook in, before
    ``repo_paths`` has answered: git runs a hook at the top of the work tree, so ``cwd`` is
    the root and ``cwd/.git`` the git directory, unless the place comes from the
    environment (``GIT_DIR``...) or ``.git`` is no folder (a linked worktree, a ``.git``
    file): then nothing is started. ``look_ahead`` takes it only for that root and git
    directory as ``repo_paths`` names them; ``drop_early`` lets go of one nobody took."""
    drop_early()
    if any(os.environ.get(name) for name in _GIT_PLACE):
        return
    gitdir = os.path.join(cwd, ".git")
    if os.path.islink(gitdir) or not os.path.isdir(gitdir):
        return
    ahead = look_ahead(cwd, gitdir)
    if ahead is not None:
        _EARLY.append((cwd, gitdir, ahead))


def early_status(root: str, gitdir: str) -> Result[GitStatus, GitError] | None:
    """What the early ``git status`` answers, when it was started for ``root`` and
    ``gitdir`` (waiting for it); None when none was (it is let go of if it was started for
    another place)."""
    if not _EARLY:
        return None
    cwd, guessed, ahead = _EARLY[-1]
    if (cwd, guessed) != (root, gitdir):
        drop_early()
        return None
    return status_of(ahead.pending.answer())


def _take_early(root: str, gitdir: str) -> Lookahead | None:
    if not _EARLY:
        return None
    cwd, guessed, ahead = _EARLY.pop()
    if (cwd, guessed) == (root, gitdir):
        return ahead
    ahead.close()
    return None


def drop_early() -> None:
    """Let go of the early ``Lookahead`` (its lock and its git call) if nobody took it."""
    while _EARLY:
        _EARLY.pop()[2].close()


# --- setting aside and putting back ------------------------------------------------------


def stash(root: str, gitdir: str, state: Stashed, ahead: Lookahead | None = None) -> Result[Stashed, StashError]:
    """Steps 1 and 2 (see the module's docstring), the lock held by the caller. Left-over
    work refuses the run: it is never put back silently, nor stashed over."""
    notice = leftover_notice(gitdir)
    if notice is not None:
        return Failure(StashError(f"{notice}, then commit again; nothing was checked"))
    _remove_partial_saves(gitdir)
    # one question first: what differs between the index and the working tree? (The same
    # git call tells what is staged: the run's files, kept in ``state.status``.)
    found = status(root) if ahead is None else status_of(ahead.pending.answer())
    if isinstance(found, Failure):
        return Failure(StashError(f"cannot read the unstaged changes: {found.failure().message}"))
    state.status = found.unwrap()
    unmerged = [p for s, p in state.status.unstaged if s == "U"]
    if unmerged:
        return Failure(StashError(f"unmerged files ({', '.join(unmerged[:3])}): resolve them before committing"))
    # intent-to-add files ("A": in the index with no content yet) are left alone, like
    # untracked files: the commit takes nothing of theirs
    paths = [os.fsencode(p) for s, p in state.status.unstaged if s != "A"]
    state.worktree_is_index = True
    if not paths:
        return Success(state)
    try:
        state.entries = [capture(root, p) for p in paths]
    except OSError as exc:
        return Failure(StashError(f"cannot set {exc.filename} aside: {exc.strerror or exc}"))
    try:
        state.patch = _save(gitdir, state.entries)
    except OSError as exc:
        return Failure(StashError(f"cannot save the unstaged changes under {gitdir}: {exc.strerror or exc}"))
    checked_out = _checkout(root, paths)
    try:
        if isinstance(checked_out, Failure):
            raise OSError(0, checked_out.failure().message)
        state.base = {p: capture(root, p) for p in paths}
    except OSError as exc:
        _write_back(root, state, state.entries)  # undo: nothing has run yet
        state.worktree_is_index = False
        why = f"cannot reset the working tree to the index: {exc.strerror or exc}"
        return Failure(StashError(why if state.error is None else f"{why}; {state.error}"))
    return Success(state)


def unstash(root: str, state: Stashed) -> None:
    """Step 3: put the user's files back; ``state.rolled_back`` / ``state.error`` say how."""
    if state.patch is None:
        return
    back: list[Entry] = []
    for entry in state.entries:
        try:
            now = capture(root, entry.path)
        except OSError:
            now = None
        base = state.base.get(entry.path)
        if now is not None and base is not None and (now.mode, now.data) == (base.mode, base.data):
            back.append(entry)  # the run left it alone
            continue
        merged = None if now is None or base is None else _merge(root, base, now, entry)
        if merged is None:  # a fixer changed lines the user changed too: the user's work wins
            state.rolled_back = True
            break
        back.append(merged)
    if state.rolled_back:
        back = list(state.entries)
        fixed = status(root)
        if isinstance(fixed, Failure):
            state.error = f"cannot undo the fixes: {fixed.failure().message}; your unstaged changes are in {state.patch}"
            state.error += " (run 'omnibase restore --force')"
            return
        mine = {e.path for e in state.entries}
        others = [os.fsencode(p) for s, p in fixed.unwrap().unstaged if s != "A" and os.fsencode(p) not in mine]
        undone = _checkout(root, others)
        if isinstance(undone, Failure):
            state.error = f"cannot undo the fixes: {undone.failure().message}"
    _write_back(root, state, back)


def _write_back(root: str, state: Stashed, entries: Sequence[Entry]) -> None:
    try:
        for entry in entries:
            put_back(root, entry)
    except OSError as exc:
        state.error = (
            f"cannot put your unstaged changes back ({exc.filename or ''}: {exc.strerror or exc}); they are safe in "
            f"{state.patch} (run 'omnibase restore')"
        )
        return
    if state.patch is not None and state.error is None:
        os.unlink(state.patch)


def _merge(root: str, base: Entry, now: Entry, mine: Entry) -> Entry | None:
    """The user's file with the run's change to it (``base`` -> ``now``) merged in (``git
    merge-file``, raw bytes, no attributes), or None when they conflict or are no text."""
    if not all(stat.S_ISREG(e.mode) for e in (base, now, mine)):
        return None
    import tempfile

    with tempfile.TemporaryDirectory(prefix="omnibase-merge-") as tmp:
        names = []
        for label, entry in (("now", now), ("base", base), ("mine", mine)):
            name = os.path.join(tmp, label)
            with open(name, "wb") as f:
                f.write(entry.data)
            names.append(name)
        merged = git(["merge-file", "-p", "-q", *names], root)
    if isinstance(merged, Failure):
        return None  # conflicts (exit status: how many) or binary
    return Entry(mine.path, mine.mode, merged.unwrap(), mine.uid, mine.gid)


@contextmanager
def staged_only(root: str, gitdir: str, ahead: Lookahead | None = None) -> Iterator[Result[Stashed, StashError]]:
    """Within the block the working tree of tracked files holds the staged content; on
    the way out (normal, exception, Ctrl-C) the unstaged changes come back. ``ahead``:
    the lock already held and the status already asked (see ``look_ahead``). Everything in
    one process: ``precommit._supervise`` runs the block's work in a child instead."""
    problem = unusable(gitdir)
    if problem is not None:
        yield Failure(problem)
        return
    with _lock(gitdir) if ahead is None or ahead.fd is None else contextlib.nullcontext():
        state = Stashed()
        try:
            with deferred_signals():
                stashed = stash(root, gitdir, state, ahead if ahead is not None and ahead.fd is not None else None)
            yield stashed
        finally:
            with deferred_signals():
                unstash(root, state)


@contextmanager
def locked(gitdir: str, ahead: Lookahead | None) -> Iterator[int]:
    """The stash lock for a run (already held when ``ahead`` holds it): its fd, which a
    forked run closes (the lock is its parent's)."""
    if ahead is not None and ahead.fd is not None:
        yield ahead.fd
        return
    with _lock(gitdir) as fd:
        assert fd is not None
        yield fd
