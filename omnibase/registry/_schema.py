"""The registry file's schema: frozen structs that ``msgspec.convert`` validates into.

See ``docs/registry.md`` for the reference with examples.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from omnibase.core.policies import DEFAULT_BREAKER as _B
from omnibase.core.policies import DEFAULT_RETRY as _R
from omnibase.core.gating import GatePolicy
from omnibase.core.policies import BreakerPolicy, RetryPolicy
from omnibase.core.values import ComponentType, Isolation, Lifecycle, Limits, Meta, Rights
from omnibase.orchestrators.table import DEFAULT_HOOK_STAGES, HOOK_STAGES, STAGES, HookStage, HookType
from omnibase.repos._source import HookSource

__all__ = [
    "FILE_NAMES",
    "NAME_CHARS",
    "NAME_PATTERN",
    "HOOK_STAGES",
    "STAGE_DEFAULTS",
    "BreakerSpec",
    "ConfigError",
    "Entry",
    "HookSpec",
    "Limits",
    "Registry",
    "RegistryFile",
    "ResolutionError",
    "RetrySpec",
    "StageConfig",
    "entry_meta",
    "stage_settings",
]

FILE_NAMES = ("omnibase.yaml", ".omnibase.yaml")
#: The characters of an entry's name (the one place: the loader checks names with
#: ``NAME_PATTERN``, the pre-commit importer makes names of them).
NAME_CHARS = "A-Za-z0-9_.-"
NAME_PATTERN = f"^[{NAME_CHARS}]+$"

#: The longest duration (seconds) any field accepts: one day. ``nan``, ``inf`` and
#: negative durations are refused too (a comparison with nan is always false).
MAX_SECONDS = 86_400.0

#: A positive duration in seconds, at most a day.
Seconds = Annotated[float, msgspec.Meta(gt=0, le=MAX_SECONDS)]
#: A delay in seconds that may be zero, at most a day.
Delay = Annotated[float, msgspec.Meta(ge=0, le=MAX_SECONDS)]
#: A count of at least one, at most ``hi``.
Attempts = Annotated[int, msgspec.Meta(ge=1, le=100)]
Count = Annotated[int, msgspec.Meta(ge=1, le=10_000)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


#: A hook in the registry file: a command (argv list) or a Python callable ('module:function').
Hook = tuple[str, ...] | str


class HookSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Hooks of a component or a stage (see ``docs/hooks.md``)."""

    pre: tuple[Hook, ...] = ()
    post: tuple[Hook, ...] = ()


class StageConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    filter: str | None = None
    fail_fast: bool | None = None
    gate: GatePolicy | None = None
    hooks: HookSpec | None = None


#: Each stage's defaults, from its row of the stage table (``orchestrators.table.STAGES``):
#: the stages ``stages:`` may name, and what it overrides per stage.
STAGE_DEFAULTS: dict[str, StageConfig] = {
    name: StageConfig(filter=spec.filter, fail_fast=spec.fail_fast or None) for name, spec in STAGES.items()
}


class RetrySpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``retry:``; the defaults are ``omnibase.core.policies.DEFAULT_RETRY``'s.

    ``transient_exit_codes``: the exit codes of a command component that are worth another
    attempt (e.g. 75, EX_TEMPFAIL). By default no exit code is: a command that ran and
    failed is a verdict, not an accident. Timeouts are always transient.
    """

    max_attempts: Attempts = _R.max_attempts
    initial: Delay = _R.initial
    multiplier: Annotated[float, msgspec.Meta(ge=1, le=100)] = _R.multiplier
    cap: Delay = _R.cap
    jitter: Delay = _R.jitter
    deadline: Seconds | None = _R.deadline
    transient_exit_codes: tuple[Annotated[int, msgspec.Meta(ge=0, le=255)], ...] = ()


class BreakerSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``breaker:``; the defaults are ``omnibase.core.policies.DEFAULT_BREAKER``'s."""

    threshold: Count = _B.threshold
    window: Seconds = _B.window
    reset_timeout: Delay = _B.reset_timeout
    probes: Count = _B.probes


class Entry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One component of the registry file: metadata plus a command, a Python callable, a
    built-in check (``builtin:``, with the reference hook's flags as ``args:``; its
    name defaults to the built-in's), or a hook of a repository (``repo:``, its ``args:``
    appended to its entry)."""

    name: Annotated[str, msgspec.Meta(max_length=200)] = ""  # a builtin entry defaults to its check
    type: ComponentType = ComponentType.TOOL
    lifecycle: Lifecycle = Lifecycle.STABLE
    tags: tuple[str, ...] = ()
    description: str = ""
    idempotent: bool = False
    pure: bool = False
    timeout: Seconds | None = None
    retry: RetrySpec | None = None
    breaker: BreakerSpec | None = None
    files: str = ""
    exclude: str = "^$"
    types: tuple[str, ...] = ()
    types_or: tuple[str, ...] = ()
    exclude_types: tuple[str, ...] = ()
    command: tuple[str, ...] | None = None
    pass_filenames: bool = True
    always_run: bool = False
    env: dict[str, str] = msgspec.field(default_factory=dict)
    limits: Limits | None = None
    python: str | None = None
    input: str = "object"
    output: str = "object"
    isolation: Isolation | None = None  # None: "process" for python entries, "none" for built-ins
    sandbox: Rights = Rights()
    pass_env: tuple[str, ...] = ()
    #: The git hooks a component runs at (when the entry says nothing: the ones that check
    #: files and ``manual``, ``DEFAULT_HOOK_STAGES``; ``manual`` ones run only when asked for
    #: with ``orch --hook-stage manual``).
    stages: tuple[HookStage, ...] = DEFAULT_HOOK_STAGES
    builtin: str | None = None
    #: A hook of another repository (or a local one that needs an environment): run from
    #: its clone or its Python environment, built on first use (``omnibase.repos``).
    repo: HookSource | None = None
    args: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    when: Literal["all_succeeded", "none_failed", "all_done"] = "all_succeeded"
    hooks: HookSpec | None = None

    def retry_policy(self) -> RetryPolicy | None:
        if self.retry is None:
            return None
        fields = msgspec.structs.asdict(self.retry)
        codes = frozenset(fields.pop("transient_exit_codes"))
        if not codes:
            return RetryPolicy(**fields)
        return RetryPolicy(**fields, retry_on=lambda e: e.transient or _exit_code(e) in codes)

    def breaker_policy(self) -> BreakerPolicy | None:
        return None if self.breaker is None else BreakerPolicy(**msgspec.structs.asdict(self.breaker))


def _exit_code(error: Any) -> int | None:
    data = getattr(error, "data", None)
    code = data.get("exit_code") if isinstance(data, dict) else None
    return code if isinstance(code, int) else None


class RegistryFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: Literal[1] = 1
    exclude: str = "^$"
    #: The git hooks ``omnibase install`` writes when not told (pre-commit's key of that name).
    default_install_hook_types: tuple[HookType, ...] = ("pre-commit",)
    stages: dict[str, StageConfig] = msgspec.field(default_factory=dict)
    components: tuple[Entry, ...] = ()


class Registry(msgspec.Struct, frozen=True):
    """A loaded registry: where it came from (None: no file), its entries and stages."""

    path: str | None
    entries: tuple[Entry, ...] = ()
    exclude: str = "^$"
    stages: dict[str, StageConfig] = msgspec.field(default_factory=dict)
    default_install_hook_types: tuple[HookType, ...] = ("pre-commit",)
    #: Each entry's line in the file (1-based), when known.
    lines: tuple[int, ...] = ()

    def where(self, name: str) -> str:
        """``file:line`` of the entry called ``name`` (the file alone when unknown)."""
        for entry, line in zip(self.entries, self.lines):
            if entry.name == name:
                return f"{self.path}:{line}"
        return self.path or "(no registry file)"


class ConfigError(msgspec.Struct, frozen=True):
    """A registry file that cannot be used: exit code 2."""

    path: str
    line: int
    column: int
    message: str

    def render(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}" if self.line else self.path
        return f"{where}: {self.message}"


class ResolutionError(msgspec.Struct, frozen=True):
    """An entry whose callable or command cannot be found: exit code 3."""

    name: str
    message: str

    def render(self) -> str:
        return f"{self.name}: {self.message}"


def entry_meta(entry: Entry) -> Meta:
    """The component metadata an entry declares."""
    return Meta(
        name=entry.name,
        type=entry.type,
        lifecycle=entry.lifecycle,
        tags=frozenset(entry.tags),
        idempotent=entry.idempotent,
        pure=entry.pure,
        timeout=entry.timeout,
        description=entry.description,
        input_type=entry.input,
        output_type=entry.output,
        isolation=(entry.isolation or "process") if entry.python is not None else "none",
        ref=entry.python or "",
        sandbox=entry.sandbox,
        limits=entry.limits,
    )


def stage_settings(registry: Registry) -> dict[str, StageConfig]:
    """Every stage's settings: the defaults, overridden field by field by the file."""
    out: dict[str, StageConfig] = {}
    for stage in {**STAGE_DEFAULTS, **registry.stages}:
        base = STAGE_DEFAULTS.get(stage, StageConfig())
        own: dict[str, Any] = {}
        if stage in registry.stages:
            own = {k: v for k, v in msgspec.structs.asdict(registry.stages[stage]).items() if v is not None}
        out[stage] = msgspec.structs.replace(base, **own)
    return out
