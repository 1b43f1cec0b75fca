"""What ``orch`` is asked to run, parsed once from argparse's ``Namespace`` at the edge.

``StageRequest`` holds the choices that decide which stage runs, on which files, with
which components and in which mode; the layers below take it (or the few fields they need)
instead of the ``Namespace``. The options that only shape the output (format, colour,
verbosity, report files) stay with the command that prints.

>>> import argparse
>>> args = argparse.Namespace(stage="ci", paths=[], all_files=False, from_ref=None, to_ref=None,
...     from_="build", to=["test"], skip=["a,b"], only_failed=False, maxfail=None, hook_stage=None,
...     exitfirst=True, filter=[], tags=[], list=False, graph=None, jobs=None, mode=None)
>>> request = StageRequest.of(args, mode="sync")
>>> request.names, request.skip, request.on_staged
(('build', 'test'), ('a', 'b'), False)
"""

from __future__ import annotations

import argparse

import msgspec

from omnibase.orchestrators.table import STAGES, StageSpec

__all__ = ["StageRequest"]


def _names(values: list[str] | None) -> tuple[str, ...]:
    """Names given repeatably or comma-separated (``--skip a,b --skip c``)."""
    return tuple(n.strip() for v in values or [] for n in v.split(",") if n.strip())


class StageRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One ``orch`` run's stage, files, selection and mode."""

    stage: str
    mode: str
    paths: tuple[str, ...] = ()
    #: ``--files`` was given (maybe with no file): exactly ``paths``, none when empty
    files_given: bool = False
    #: ``run ID...``: only the components of these names
    ids: tuple[str, ...] = ()
    all_files: bool = False
    from_ref: str | None = None
    to_ref: str | None = None
    froms: tuple[str, ...] = ()
    tos: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    only_failed: bool = False
    maxfail: int | None = None
    hook_stage: str | None = None
    fail_fast: bool = False
    filters: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    listing: bool = False
    graph: str | None = None
    jobs: int | None = None

    @classmethod
    def of(cls, args: argparse.Namespace, *, mode: str) -> StageRequest:
        """The request ``orch``'s parsed options make; ``mode``: the one they ask for
        (``cli._modes.mode_of``)."""
        return cls(
            stage=args.stage,
            mode=mode,
            paths=(*getattr(args, "paths", ()), *(getattr(args, "files", None) or ())),
            files_given=getattr(args, "files", None) is not None,
            ids=tuple(getattr(args, "ids", ())),
            all_files=bool(args.all_files),
            from_ref=args.from_ref,
            to_ref=args.to_ref,
            froms=(args.from_,) if args.from_ else (),
            tos=tuple(args.to),
            skip=_names(args.skip),
            only_failed=bool(args.only_failed),
            maxfail=args.maxfail,
            hook_stage=args.hook_stage,
            fail_fast=bool(args.exitfirst),
            filters=tuple(args.filter),
            tags=_names(args.tags),
            listing=bool(args.list),
            graph=args.graph,
            jobs=args.jobs,
        )

    @property
    def spec(self) -> StageSpec:
        """The stage's row of the stage table."""
        return STAGES[self.stage]

    @property
    def names(self) -> tuple[str, ...]:
        """``--from`` then the ``--to`` names (what a pipeline stage runs)."""
        return (*self.froms, *self.tos)

    @property
    def on_staged(self) -> bool:
        """Whether the run looks at the staged files: its stage's default scope (the stage
        table's ``files``), with no path, ``--all-files`` nor ``--from-ref``."""
        return self.spec.files == "staged" and not (self.paths or self.files_given or self.all_files or self.from_ref)

    @property
    def stashes(self) -> bool:
        """Whether the run sets unstaged changes aside: a stage that does (the table's
        ``stashes``), on the staged files."""
        return self.spec.stashes and not (self.paths or self.files_given or self.all_files)
