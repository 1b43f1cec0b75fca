"""A hook of another repository as a component: its environment first, then its command.

``RepoHook`` is a value (a frozen struct, like ``Command``): the hook's ``HookSource`` and
the ``Command`` that runs it (with the files it selects, ``pass_filenames``, ``always_run``,
limits). Calling it makes sure what the hook needs is there (the clone of its repository,
its Python environment: built once, with progress on stderr), then runs the command
with the environment's ``bin/`` first on ``PATH``. A hook with no file to check is
skipped before anything is built; a dry run never calls it, so it builds nothing. What
cannot be built is ``Unresolved`` (exit 3), with the reason.

Its kind (``REPO_HOOK``) is registered in the kind table (``omnibase.drivers.kinds``) as
the command kind is, so every performer runs it.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence
from typing import Any, Final

import msgspec
from returns.result import Failure, Result, Success

from omnibase.components.command import Command, CommandKind
from omnibase.core.intents import Invoke
from omnibase.core.values import ExecCtx, Skip, StepError, Unresolved
from omnibase.drivers import kinds
from omnibase.repos._cache import clone, record_use
from omnibase.repos._envs import environment
from omnibase.repos._source import LOCAL, HookSource, unsupported

__all__ = ["REPO_HOOK", "RepoHook", "base_argv", "fail_argv", "pygrep_argv"]


def fail_argv(message: str, args: Sequence[str] = ()) -> list[str]:
    """The argv of a ``language: fail`` hook: prints its message and each file it was given,
    and fails (pre-commit's ``fail``)."""
    return ["sh", "-c", 'printf "%s\\n" "$0"; printf "  %s\\n" "$@"; exit 1', message.strip() or "failed", *args]


def pygrep_argv(pattern: str, args: Sequence[str] = ()) -> list[str]:
    """The argv of a ``language: pygrep`` hook: ``omnibase/repos/_pygrep.py`` run as a
    script in isolated mode (stdlib only: no omnibase start-up, 0.08 s instead of 0.4 s)."""
    return [sys.executable, "-I", _PYGREP, *args, "--", pattern]


_PYGREP: Final = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_pygrep.py")


def base_argv(source: HookSource, args: Sequence[str] = ()) -> Result[list[str], str]:
    """The command line of a hook before its environment is known: ``entry`` split as a
    shell would, then ``args`` (a script's path is made relative to where it lives)."""
    why = unsupported(source.language)
    if why:
        return Failure(why)
    if source.language == "fail":
        return Success(fail_argv(source.entry, args))
    if source.language == "pygrep":
        return Success(pygrep_argv(source.entry, args))
    try:
        argv = shlex.split(source.entry)
    except ValueError as exc:
        return Failure(f"entry '{source.entry}' cannot be split into a command: {exc}")
    if not argv:
        return Failure("it has no entry")
    if source.language == "script" and source.url == LOCAL and "/" not in argv[0]:
        argv[0] = "./" + argv[0]  # a local script is a path in the project
    return Success([*argv, *args])


class RepoHook(msgspec.Struct, frozen=True, kw_only=True):
    """A hook that needs its repository or its environment before ``command`` can run."""

    name: str
    source: HookSource
    command: Command
    #: The cache folder (None: ``omnibase.repos.cache_dir()`` when it runs).
    cache: str | None = None

    def __call__(self, ctx: ExecCtx, value: object) -> Result[Any, StepError]:
        ready = self.prepare(ctx)
        if isinstance(ready, Failure) or isinstance(ready.unwrap(), Skip):
            return ready
        command: Command = ready.unwrap()
        return command.run(ctx, value)

    def prepare(self, ctx: ExecCtx) -> Result[Any, StepError]:
        """The command to run now, a ``Skip`` when there is no file to give it, or why it
        cannot run (``Unresolved``)."""
        command = self.command
        if not command.always_run and not command.selection.select(ctx):
            return Success(Skip(reason="no files to check"))
        needs = self.source.needs
        if needs == "none":
            return Success(command)
        record_use(ctx.root, cache=self.cache)
        if needs == "clone":
            where = clone(self.source.url, self.source.rev, cache=self.cache, say=_say)
            if isinstance(where, Failure):
                return Failure(Unresolved(name=self.name, message=where.failure()))
            script = os.path.join(where.unwrap(), command.argv[0])
            return Success(msgspec.structs.replace(command, argv=(script, *command.argv[1:])))
        built = environment(self.source, cache=self.cache, say=_say)
        if isinstance(built, Failure):
            return Failure(Unresolved(name=self.name, message=built.failure()))
        return Success(_in_env(command, built.unwrap()))


def _in_env(command: Command, folder: str) -> Command:
    """``command`` run from the environment in ``folder``: its program found in ``bin/``
    when it is there, and ``bin/`` first on ``PATH`` for whatever it runs in turn."""
    bin_dir = os.path.join(folder, "bin")
    argv = list(command.argv)
    if os.sep not in argv[0] and os.access(os.path.join(bin_dir, argv[0]), os.X_OK):
        argv[0] = os.path.join(bin_dir, argv[0])
    path = os.pathsep.join([bin_dir, command.env.get("PATH") or os.environ.get("PATH", os.defpath)])
    return msgspec.structs.replace(command, argv=tuple(argv), env={**command.env, "PATH": path, "VIRTUAL_ENV": folder})


def _say(line: str) -> None:
    print(f"omnibase: {line}", file=sys.stderr, flush=True)


class RepoHookKind(CommandKind):
    """Hooks of repositories run as commands do (in processes of their own, stopped at the
    invocation's limit), once their repository or environment is ready; building it does
    not count against that limit."""

    name: str = "repo-hook"

    def ready(self, intent: Invoke) -> Result[Any, StepError]:
        return _hook_of(intent).prepare(intent.ctx)

    async def aready(self, intent: Invoke) -> Result[Any, StepError]:
        import asyncio

        return await asyncio.to_thread(_hook_of(intent).prepare, intent.ctx)  # a build must not block the loop


def _hook_of(intent: Invoke) -> RepoHook:
    fn = intent.component.fn
    if not isinstance(fn, RepoHook):  # the table maps RepoHook to this kind: cannot happen
        raise TypeError(f"{intent.component.name}: not a repository hook")
    return fn


REPO_HOOK: Final = RepoHookKind()
kinds.register(RepoHook, REPO_HOOK)
