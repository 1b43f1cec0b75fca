"""The stages, one row each: what a new stage needs is a row here (and a class when it
assembles its pipeline differently).

Everything that differs from stage to stage is a column of ``STAGES``: the orchestrator
class that runs it, its default filter, which files it looks at by default, whether it sets
unstaged work aside, the time limit of a component that declares none, its gating defaults,
and the git hooks that run it. The CLI's ``--stage`` choices and help, the registry file's
``stages:`` defaults, the catalogue and the graph commands read the rows; nothing else
names a stage. This module imports nothing heavy: the argument parser reads it.

>>> STAGES["ci"].filter, STAGES["ci"].timeout, STAGES["pre-commit"].files
('lifecycle!=experimental', 600.0, 'staged')
>>> [s.name for s in STAGES.values() if s.stashes]
['pre-commit']
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "DEFAULT_HOOK_STAGES", "DEFAULT_STAGE", "HOOKS", "HOOK_STAGES", "HOOK_TYPES", "STAGES", "HookSpec", "HookStage",
    "HookType", "StageSpec", "stage_help",
]  # fmt: skip

#: The git hooks omnibase installs and runs at (``install -t``, ``hook-impl --hook-type``):
#: every hook type pre-commit supports, under the same names.
HookType = Literal[
    "pre-commit", "pre-merge-commit", "pre-push", "commit-msg", "prepare-commit-msg", "post-commit", "post-checkout",
    "post-merge", "post-rewrite", "pre-rebase",
]  # fmt: skip
HOOK_TYPES: tuple[HookType, ...] = get_args(HookType)
#: What an entry's ``stages:`` may name: a git hook, or ``manual`` (run only when asked
#: for with ``orch --hook-stage manual``).
HookStage = Literal[HookType, "manual"]
HOOK_STAGES: tuple[HookStage, ...] = (*HOOK_TYPES, "manual")


class HookSpec:
    """One git hook type: what git gives it and what its run looks at.

    - ``files``: the files its components are given: ``staged`` (the index, unstaged work
      set aside), ``pushed`` (what each pushed ref changes, from the refs git gives on
      stdin), ``message`` (the commit message file, git's first argument) or ``none`` (no
      file: only ``always_run`` components have work);
    - ``env``: git's arguments, in order, as the environment variables a component sees
      (pre-commit's names, so a hook written for pre-commit reads them unchanged; ``""``:
      an argument that is not passed on this way, e.g. the message file);
    - ``default``: whether a component whose ``stages:`` are not given runs at it (the
      hooks that check files; the others run only what names them);
    - ``stdin``: git writes lines on its standard input (the refs pushed, the commits
      rewritten), which a chained legacy hook is given too.
    """

    __slots__ = ("name", "files", "env", "default", "stdin")

    def __init__(self, name: HookType, files: Literal["staged", "pushed", "message", "none"], env: tuple[str, ...] = (),
                 default: bool = False, stdin: bool = False) -> None:  # fmt: skip
        self.name, self.files, self.env, self.default, self.stdin = name, files, env, default, stdin

    def __repr__(self) -> str:
        return f"HookSpec({self.name!r})"


_MSG = ("", "PRE_COMMIT_COMMIT_MSG_SOURCE", "PRE_COMMIT_COMMIT_OBJECT_NAME")
#: Every hook type by name, in ``HOOK_TYPES``' order.
HOOKS: dict[HookType, HookSpec] = {
    h.name: h
    for h in (
        HookSpec("pre-commit", "staged", default=True),
        HookSpec("pre-merge-commit", "staged", default=True),
        HookSpec("pre-push", "pushed", ("PRE_COMMIT_REMOTE_NAME", "PRE_COMMIT_REMOTE_URL"), default=True, stdin=True),
        HookSpec("commit-msg", "message"),
        HookSpec("prepare-commit-msg", "message", _MSG),
        HookSpec("post-commit", "none"),
        HookSpec("post-checkout", "none", ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF", "PRE_COMMIT_CHECKOUT_TYPE")),
        HookSpec("post-merge", "none", ("PRE_COMMIT_IS_SQUASH_MERGE",)),
        HookSpec("post-rewrite", "none", ("PRE_COMMIT_REWRITE_COMMAND",), stdin=True),
        HookSpec("pre-rebase", "none", ("PRE_COMMIT_PRE_REBASE_UPSTREAM", "PRE_COMMIT_PRE_REBASE_BRANCH")),
    )
}
assert tuple(HOOKS) == HOOK_TYPES
#: An entry's ``stages:`` when it gives none: the hooks that check files, and ``manual``.
DEFAULT_HOOK_STAGES: tuple[HookStage, ...] = (*(h for h in HOOK_TYPES if HOOKS[h].default), "manual")


class StageSpec:
    """One stage (a plain class with slots: a ``NamedTuple`` or a dataclass costs start-up).

    - ``orchestrator``: the name of its class in ``omnibase.orchestrators.stages``
      (``orchestrators.stages.orchestrator_for`` looks it up);
    - ``filter``: its default filter (``--filter``'s grammar); its orchestrator's
      ``select()`` applies it, the registry file's ``stages.NAME.filter`` replaces it;
    - ``files``: what it looks at when no path is given: ``staged`` (the index) or
      ``tracked`` (every tracked file);
    - ``stashes``: on the staged files, unstaged work is set aside while it runs;
    - ``timeout``: the time limit (seconds) of one invocation of a component that declares
      none (None: no limit);
    - ``fail_fast``: its gating default (``stages.NAME.fail_fast`` replaces it);
    - ``hook_types``: the git hooks that run it; the first is its ``--hook-stage`` default;
    - ``selects``: ``filter`` (the default filter and the user's pick the components; the
      graph options ``--skip``, ``--only-failed``, ``--maxfail`` apply) or ``names`` (a
      typed pipeline named by ``--from``/``--to``, each output feeding an input, checked
      before anything runs);
    - ``help``: one line for ``--stage``'s help.
    """

    __slots__ = ("name", "orchestrator", "filter", "files", "stashes", "timeout", "fail_fast", "hook_types", "selects", "help")

    def __init__(
        self,
        name: str,
        orchestrator: str,
        *,
        filter: str,
        files: Literal["staged", "tracked"] = "tracked",
        stashes: bool = False,
        timeout: float | None = None,
        fail_fast: bool = False,
        hook_types: tuple[HookType, ...] = (),
        selects: Literal["filter", "names"] = "filter",
        help: str,
    ) -> None:
        self.name = name
        self.orchestrator = orchestrator
        self.filter = filter
        self.files = files
        self.stashes = stashes
        self.timeout = timeout
        self.fail_fast = fail_fast
        self.hook_types = hook_types
        self.selects = selects
        self.help = help

    @property
    def hook_stage(self) -> HookType | None:
        """The git hook whose components it runs by default (an entry's ``stages:``)."""
        return self.hook_types[0] if self.hook_types else None

    def __repr__(self) -> str:
        return f"StageSpec({self.name!r}, {self.orchestrator!r})"


#: Every stage by name, in the order ``--stage`` lists them; the first is the default.
STAGES: dict[str, StageSpec] = {
    spec.name: spec
    for spec in (
        StageSpec(
            "pre-commit", "PreCommitOrchestrator", filter="tag=pre-commit,lifecycle=canary|stable",
            files="staged", stashes=True, hook_types=HOOK_TYPES,
            help="canary and stable components tagged pre-commit, on the staged files",
        ),
        StageSpec("test", "TestOrchestrator", filter="type=test", help="test components, on every tracked file"),
        StageSpec(
            "ci", "CIOrchestrator", filter="lifecycle!=experimental", timeout=600.0,
            help="everything but experimental components, on every tracked file, 10 minutes each at most",
        ),
        StageSpec(
            "pipeline", "PipelineOrchestrator", filter="", selects="names",
            help="the typed pipeline --from NAME --to NAME ... names",
        ),
    )
}  # fmt: skip

DEFAULT_STAGE = next(iter(STAGES))


def stage_help() -> str:
    """``--stage``'s help: each stage and what it runs, the default first."""
    rows = "; ".join(f"{s.name}: {s.help}" for s in STAGES.values())
    return f"the stage to run (default: {DEFAULT_STAGE}). {rows}"
