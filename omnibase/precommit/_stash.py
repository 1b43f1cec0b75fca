"""Check exactly what will be committed: unstaged changes step aside while the checks run.

The model is pre-commit's. Before a pre-commit run on the staged files:

1. the difference between the index and the working tree of tracked files (``git diff
   --binary``) is written to a patch under ``.git/omnibase/patches/`` and fsynced: from
   then on the user's unstaged work exists on disk outside the working tree;
2. the working tree of tracked files is reset to the index (``git checkout -- .``), so
   the checks see byte for byte what the commit will contain; untracked files are not
   touched (and never checked: only staged paths are given to the checks);
3. after the checks (and the fixers' writes), the patch is applied again. If it does not
   apply, the fixers changed lines the user had also changed: their fixes are rolled back
   (``git checkout -- .``), the patch applied on the staged content, and the run says so.
   The patch is deleted only once it is back in the working tree.

A run killed at any point (even by SIGKILL) leaves the patch in place; the next run, or
``omnibase restore``, applies it before doing anything else. An exclusive lock
(``.git/omnibase/stash.lock``) keeps two runs from stashing at once.

Intent-to-add files (``git add -N``) are taken out of the index for the run and put back
after (pre-commit does the same): a checkout would otherwise empty them.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

import msgspec
from returns.result import Failure, Result, Success

from omnibase._io.git import GitError, Pending, Status, git, status, status_of, status_started
from omnibase._io.state import make_state_dir, patches_dir, stash_lock, state_dir

__all__ = ["Lookahead", "Stashed", "StashError", "look_ahead", "leftover_patches", "restore_leftovers", "staged_only"]

_NO_SUBMODULES = ("-c", "submodule.recurse=0")


class StashError(msgspec.Struct, frozen=True):
    """Why the unstaged changes could not be set aside or put back (exit code 2)."""

    message: str


class Stashed(msgspec.Struct, kw_only=True):
    """What a run set aside, and how putting it back went."""

    patch: str | None = None
    intent_to_add: tuple[str, ...] = ()
    rolled_back: bool = False  # the fixers' changes conflicted and were undone
    error: str | None = None  # the patch could not be applied; it is kept at ``patch``
    worktree_is_index: bool = False  # set aside: tracked files hold what the index does
    status: Status | None = None  # what git said was staged and unstaged before


def leftover_patches(gitdir: str) -> list[str]:
    """Patches of interrupted runs, oldest first."""
    folder = patches_dir(state_dir(gitdir))
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".patch"))
    except OSError:
        return []
    return [os.path.join(folder, n) for n in names]


def _checkout_index(root: str) -> Result[bytes, StashError]:
    return git([*_NO_SUBMODULES, "checkout", "--", "."], root).alt(
        lambda e: StashError(f"cannot reset the working tree to the index: {e.message}")
    )


def _apply(root: str, patch: str, *extra: str) -> Result[bytes, GitError]:
    return git(["apply", "--whitespace=nowarn", *extra, patch], root)


def _write_durably(path: str, data: bytes) -> None:
    """Write ``data`` to a new file (0600) and fsync it and its folder: the user's only copy
    of their unstaged work until it is applied again, so it is on disk before the working
    tree changes. The state folder is checked first (no symlink, ours)."""
    from omnibase._io.atomic import write_atomic

    made = make_state_dir(os.path.dirname(path))
    if made.value_or(None) is None:
        raise OSError(made.failure().message)
    write_atomic(path, data, durable=True, mode=0o600)


def _write_patch(gitdir: str, diff: bytes) -> str:
    path = os.path.join(patches_dir(state_dir(gitdir)), f"{time.time_ns()}-{os.getpid()}.patch")
    _write_durably(path, diff)
    return path


def _restore(root: str, patch: str, *, force: bool) -> Result[str, StashError]:
    """Put one leftover patch back: ``"applied"``, ``"present"`` (the working tree already
    holds it) or, with ``force``, after resetting tracked files to the index."""
    if isinstance(_apply(root, patch, "--check"), Success):
        result = _apply(root, patch).map(lambda _: "applied")
    elif isinstance(_apply(root, patch, "--reverse", "--check"), Success):
        result = Success("present")
    elif force:
        # what the working tree holds now is saved too (not applied again automatically)
        now = git(["diff", "--binary", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/"], root)
        saved = patch[: -len(".patch")] + ".before-restore.diff"
        if isinstance(now, Success) and now.unwrap().strip():
            _write_durably(saved, now.unwrap())
        result = _checkout_index(root).alt(lambda e: GitError(e.message)).bind(lambda _: _apply(root, patch)).map(
            lambda _: f"applied over the index (the working tree's changes before it: {saved})"
            if os.path.exists(saved)
            else "applied over the index"
        )
    else:
        return Failure(
            StashError(
                f"an interrupted run left your unstaged changes in {patch} and they no longer apply to the "
                "working tree; run 'omnibase restore --force' to reset tracked files to the index and apply "
                f"it, or apply it yourself (git apply {patch}) and delete it"
            )
        )
    if isinstance(result, Failure):
        return Failure(StashError(f"cannot apply {patch}: {result.failure().message}"))
    os.unlink(patch)
    return Success(result.unwrap())


def restore_leftovers(root: str, gitdir: str, *, force: bool = False) -> Result[list[tuple[str, str]], StashError]:
    """Apply every patch an interrupted run left behind; ``(patch, how)`` for each."""
    done: list[tuple[str, str]] = []
    for patch in leftover_patches(gitdir):
        how = _restore(root, patch, force=force)
        if isinstance(how, Failure):
            return Failure(how.failure())
        done.append((patch, how.unwrap()))
    return Success(done)


@contextmanager
def _lock(gitdir: str) -> Iterator[None]:
    import fcntl

    fd = os.open(stash_lock(state_dir(gitdir)), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class Lookahead:
    """The stash's lock, taken early, and its ``git status`` running in the background
    while the run is set up (registry, plan, imports): the git call costs no wall time on
    a machine with a core to spare. Taken only when nobody else holds the lock and no
    interrupted run left a patch, so that the status is the one the stash would have read
    (the lock keeps any other omnibase run from changing the working tree meanwhile).
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
    """A ``Lookahead``, or None when the lock is held by another run, a patch is left over,
    or the lock file is not there yet (``staged_only`` then does as it always does). It
    writes nothing: a run refused later (a bad option, a broken registry) leaves no trace,
    not even the lock file, which only a stash creates."""
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


def _stash(root: str, gitdir: str, state: Stashed, ahead: Lookahead | None = None) -> Result[Stashed, StashError]:
    leftovers = restore_leftovers(root, gitdir)  # none when looked ahead
    if isinstance(leftovers, Failure):
        return Failure(leftovers.failure())
    # one question first: what differs between the index and the working tree? (The same
    # git call tells what is staged: the run's files, kept in ``state.status``.)
    found = status(root) if ahead is None else status_of(ahead.pending.answer())
    if isinstance(found, Failure):
        return Failure(StashError(f"cannot read the unstaged changes: {found.failure().message}"))
    state.status = found.unwrap()
    changes = state.status.unstaged  # (status letter, path)
    unmerged = [p for s, p in changes if s == "U"]
    if unmerged:
        return Failure(StashError(f"unmerged files ({', '.join(unmerged[:3])}): resolve them before committing"))
    state.intent_to_add = tuple(p for s, p in changes if s == "A")
    if not changes:
        state.worktree_is_index = True
        return Success(state)
    if state.intent_to_add:
        git(["rm", "--cached", "-q", "--", *state.intent_to_add], root)
    diff = git(
        ["diff", "--binary", "--no-color", "--no-ext-diff", "--ignore-submodules", "--src-prefix=a/",
         "--dst-prefix=b/", "--no-renames"],
        root,
    )
    if isinstance(diff, Failure):
        return Failure(StashError(f"cannot read the unstaged changes: {diff.failure().message}"))
    if not diff.unwrap().strip():  # only intent-to-add files differed
        state.worktree_is_index = True
        return Success(state)
    try:
        state.patch = _write_patch(gitdir, diff.unwrap())
    except OSError as exc:
        return Failure(StashError(f"cannot save the unstaged changes under {gitdir}: {exc.strerror or exc}"))
    state.worktree_is_index = True
    return _checkout_index(root).map(lambda _: state)


def _unstash(root: str, state: Stashed) -> None:
    if state.patch is not None:
        if isinstance(_apply(root, state.patch), Failure):
            # the fixers changed lines the user changed too: the user's work wins
            state.rolled_back = True
            undone = _checkout_index(root)
            if isinstance(undone, Failure) or isinstance(_apply(root, state.patch), Failure):
                state.error = (
                    f"cannot put your unstaged changes back; they are safe in {state.patch} "
                    "(run 'omnibase restore --force')"
                )
        if state.error is None:
            os.unlink(state.patch)
    if state.intent_to_add:
        git(["add", "--intent-to-add", "--", *state.intent_to_add], root)


@contextmanager
def staged_only(root: str, gitdir: str, ahead: Lookahead | None = None) -> Iterator[Result[Stashed, StashError]]:
    """Within the block the working tree of tracked files holds the staged content; on
    the way out (normal, exception, Ctrl-C) the unstaged changes come back. ``ahead``:
    the lock already held and the status already asked (see ``look_ahead``)."""
    checked = make_state_dir(state_dir(gitdir))  # the state folder: real, ours, no symlink
    if isinstance(checked, Failure):
        yield Failure(StashError(f"cannot set the unstaged changes aside: {checked.failure().message}"))
        return
    with _lock(gitdir) if ahead is None or ahead.fd is None else contextlib.nullcontext():
        state = Stashed()
        stashed = _stash(root, gitdir, state, ahead if ahead is not None and ahead.fd is not None else None)
        try:
            yield stashed
        finally:
            _unstash(root, state)
