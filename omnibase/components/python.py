"""The Python kind: a registry ``python: module:function`` entry, imported or deferred.

An entry with ``isolation: none`` is imported here (``imported``) and called in this
process, each call with the working directory and ``os.environ`` restored after it
(``restoring``). An entry with ``isolation: process`` (the default) runs in a worker
process, which imports it by its reference; here it is a ``Deferred`` function that
imports it on its first call only if a performer calls it in this process after all.

An entry that selects files (``files:``, ``types:``...) sees only those in ``ctx.files``:
its function is a ``Selecting`` value, whose kind (registered in
``omnibase.drivers.kinds``) tells the process performer which context to send a worker.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, Final

from returns.result import Failure, Result, Success

from omnibase.components.files import FileSelection
from omnibase.core.step import Component
from omnibase.core.values import ExecCtx, Unresolved
from omnibase.drivers import kinds

__all__ = ["SELECTING", "Deferred", "Selecting", "cannot_import", "imported", "restoring", "target_of"]


def target_of(target: str, root: str) -> Result[tuple[str, str], str]:
    """The ``(module, attribute)`` that ``target`` (``module:function``) names, with the
    repository ``root`` put on ``sys.path`` so the module can be found; or why not."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        return Failure(f"python: '{target}' is not 'module:function'")
    if root not in sys.path:
        sys.path.insert(0, root)
    return Success((module_name, attr))


def cannot_import(module_name: str, why: str) -> str:
    """The one wording of a module that does not import (here, in a probe, in a worker)."""
    return f"cannot import module '{module_name}': {why}"


def imported(target: str, root: str) -> Result[Callable[..., Any], str]:
    """The function ``target`` names, imported in this process (a ``Component`` there
    gives its function), or why it cannot be had."""
    import importlib

    named = target_of(target, root)
    if isinstance(named, Failure):
        return named
    module_name, attr = named.unwrap()
    try:
        module = importlib.import_module(module_name)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # ImportError, or the module failing or exiting at import time
        return Failure(cannot_import(module_name, f"{type(exc).__name__}: {exc}"))
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            return Failure(f"module '{module_name}' has no attribute '{attr}'")
        obj = getattr(obj, part)
    if isinstance(obj, Component):
        return Success(obj.fn)
    if not callable(obj):
        return Failure(f"'{target}' is not callable")
    return Success(obj)


class Deferred:
    """An entry that runs in a worker process, called in this one (without the process
    performer): ``target`` is imported here on the first call. A call that cannot import
    it fails with ``Unresolved``."""

    __slots__ = ("name", "target", "root", "_fn", "__name__")

    def __init__(self, name: str, target: str, root: str) -> None:
        self.name, self.target, self.root = name, target, root
        self._fn: Callable[..., Any] | None = None
        self.__name__ = name

    def __call__(self, ctx: ExecCtx, value: object) -> object:
        if self._fn is None:
            found = imported(self.target, self.root)
            if isinstance(found, Failure):
                return Failure(Unresolved(name=self.name, message=found.failure()))
            self._fn = found.unwrap()
        return self._fn(ctx, value)


def restoring(fn: Any) -> Any:
    """``fn`` wrapped so that the current directory and ``os.environ`` are as they were
    before each call, whatever the call changed (an ``async def`` stays one)."""
    import functools
    import inspect

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def acall(ctx: Any, value: Any) -> Any:
            saved = _process_state()
            try:
                return await fn(ctx, value)
            finally:
                _restore(*saved)

        return acall

    @functools.wraps(fn)
    def call(ctx: Any, value: Any) -> Any:
        saved = _process_state()
        try:
            return fn(ctx, value)
        finally:
            _restore(*saved)

    return call


class Selecting:
    """``fn`` called with only the files ``selection`` keeps in ``ctx.files``."""

    __slots__ = ("fn", "selection", "__name__")

    def __init__(self, fn: Callable[..., Any], selection: FileSelection, name: str) -> None:
        self.fn, self.selection, self.__name__ = fn, selection, name

    def __call__(self, ctx: ExecCtx, value: object) -> object:
        return self.fn(self.selection.narrow(ctx), value)


class SelectingKind(kinds.PythonKind):
    """A Python function that sees only its files: a worker is sent the narrowed context."""

    name: str = "python"

    def context(self, fn: Any, ctx: ExecCtx) -> ExecCtx:
        return fn.selection.narrow(ctx) if isinstance(fn, Selecting) else ctx


SELECTING: Final = SelectingKind()
kinds.register(Selecting, SELECTING)


def _process_state() -> tuple[str, dict[str, str]]:
    return os.getcwd(), dict(os.environ)


def _restore(cwd: str, env: dict[str, str]) -> None:
    try:
        if os.getcwd() != cwd:
            os.chdir(cwd)
    except OSError:  # the folder it moved to was removed
        os.chdir(cwd)
    if os.environ != env:
        for key in [k for k in os.environ if k not in env]:
            del os.environ[key]
        for key, val in env.items():
            if os.environ.get(key) != val:
                os.environ[key] = val
