"""The checks of pre-commit-hooks 6.0.0 that depend on git state, as pure functions.

Each takes the ``RepoFacts`` the edge gathered (index modes from ``git ls-files -s``,
``core.fileMode``, which files start with ``#!``, dangling symlinks, HEAD-vs-index blobs
of former symlinks, modes of added paths, the current branch) and returns one verdict per
received path (no-commit-to-branch: one verdict for the repository). None asks git itself.
"""

from __future__ import annotations

import re

from omnibase.builtins._values import BranchOpts, NoOpts, RepoFacts, Verdict

__all__ = [
    "check_executables_have_shebangs",
    "check_shebang_scripts_are_executable",
    "check_symlinks",
    "destroyed_symlinks",
    "forbid_new_submodules",
    "is_executable_mode",
    "no_commit_to_branch",
]


_verdict = Verdict.of


def is_executable_mode(mode: str) -> bool:
    """Whether a git mode (``100755``) has an execute bit for anyone."""
    return any(c in "1357" for c in mode[-3:])


def _shebang_advice(path: str, *, executable: bool) -> str:
    """The reference's advice for a file whose executable bit and shebang disagree (the
    one for a script that is not executable ends with a newline of its own, so a blank
    line follows it, as in the reference)."""
    import shlex

    q = shlex.quote(path)
    if executable:
        return (
            f"{path}: marked executable but has no (or invalid) shebang!\n"
            f"  If it isn't supposed to be executable, try: `chmod -x {q}`\n"
            f"  If on Windows, you may also need to: `git add --chmod=-x {q}`\n"
            "  If it is supposed to be executable, double-check its shebang."
        )
    return (
        f"{path}: has a shebang but is not marked executable!\n"
        f"  If it is supposed to be executable, try: `chmod +x {q}`\n"
        f"  If on Windows, you may also need to: `git add --chmod=+x {q}`\n"
        "  If it is not supposed to be executable, double-check its shebang is wanted.\n"
    )


def check_executables_have_shebangs(facts: RepoFacts, opts: NoOpts) -> tuple[Verdict, ...]:
    """Received files (text, executable in the work tree) must start with ``#!``. Where
    git ignores the work tree's bits (``core.fileMode`` false), the index mode decides
    which files are executable."""
    out = []
    for p in facts.paths:
        executable = True if facts.file_mode else is_executable_mode(facts.modes.get(p, "100644"))
        bad = executable and p not in facts.shebang and (facts.file_mode or p in facts.modes)
        out.append(_verdict("check-executables-have-shebangs", p, [_shebang_advice(p, executable=True)] if bad else []))
    return tuple(out)


def check_shebang_scripts_are_executable(facts: RepoFacts, opts: NoOpts) -> tuple[Verdict, ...]:
    """Received files git tracks that start with ``#!`` must be executable in the index."""
    out = []
    for p in facts.paths:
        mode = facts.modes.get(p)
        bad = mode is not None and not is_executable_mode(mode) and p in facts.shebang
        advice = [_shebang_advice(p, executable=False)] if bad else []
        out.append(_verdict("check-shebang-scripts-are-executable", p, advice))
    return tuple(out)


def check_symlinks(facts: RepoFacts, opts: NoOpts) -> tuple[Verdict, ...]:
    """Received symlinks that point at nothing fail."""
    return tuple(
        _verdict("check-symlinks", p, [f"{p}: Broken symlink"] if p in facts.dangling else []) for p in facts.paths
    )


def _destroyed(head: bytes, index: bytes) -> bool:
    # the same blob, or the link's target with up to two bytes of line ending added
    return head == index or (len(index) <= len(head) + 2 and head.rstrip() == index.rstrip())


def destroyed_symlinks(facts: RepoFacts, opts: NoOpts) -> tuple[Verdict, ...]:
    """A symlink in HEAD staged as a regular file that holds the link's target (what
    git does where symlinks are not supported) fails."""
    import shlex

    out = []
    for p in facts.paths:
        change = facts.symlink_changes.get(p)
        bad = change is not None and _destroyed(*change)
        message = (
            f"{p}: a symlink in HEAD is staged as a regular file holding its target; unstage it "
            f"(git reset HEAD -- {shlex.quote(p)}), or tell git this system has no symlinks "
            "(git config core.symlinks false)"
        )
        out.append(_verdict("destroyed-symlinks", p, [message] if bad else []))
    return tuple(out)


def forbid_new_submodules(facts: RepoFacts, opts: NoOpts) -> tuple[Verdict, ...]:
    """Received paths the change adds as submodules (mode ``160000``) fail."""
    return tuple(
        _verdict("forbid-new-submodules", p,
                 [f"{p}: new submodule introduced"] if facts.added_modes.get(p) == "160000" else [])
        for p in facts.paths
    )


def protected(branch: str | None, opts: BranchOpts) -> bool:
    """Whether committing to ``branch`` is forbidden (None, a detached HEAD, never is)."""
    if branch is None:
        return False
    names = opts.branches or ("master", "main")
    return branch in names or any(re.match(p, branch) for p in opts.patterns)


def no_commit_to_branch(facts: RepoFacts, opts: BranchOpts) -> tuple[Verdict, ...]:
    """One verdict (path ``HEAD``): failing on a protected branch."""
    bad = protected(facts.branch, opts)
    return (_verdict("no-commit-to-branch", "HEAD", [f"committing to branch '{facts.branch}' is not allowed"]
                     if bad else []),)
