"""The registry file's schema: frozen structs that ``msgspec.convert`` validates into.

See ``docs/registry.md`` for the reference with examples.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from omnibase.core.policies import BreakerPolicy, RetryPolicy
from omnibase.core.values import ComponentType, Isolation, Lifecycle, Limits, Meta, Rights

__all__ = [
    "FILE_NAMES",
    "STAGE_DEFAULTS",
    "BreakerSpec",
    "ConfigError",
    "Entry",
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
NAME_PATTERN = r"^[A-Za-z0-9_.-]+$"

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


class StageConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    filter: str | None = None
    fail_fast: bool | None = None


#: The spec's defaults, as data; ``stages:`` in the registry file overrides them per stage.
STAGE_DEFAULTS: dict[str, StageConfig] = {
    "pre-commit": StageConfig(filter="tag=pre-commit,lifecycle=canary|stable"),
    "test": StageConfig(filter="type=test"),
    "ci": StageConfig(filter="lifecycle!=experimental"),
    "pipeline": StageConfig(filter=""),
}


class RetrySpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    max_attempts: Attempts = 3
    initial: Delay = 0.2
    multiplier: Annotated[float, msgspec.Meta(ge=1, le=100)] = 2.0
    cap: Delay = 5.0
    jitter: Delay = 0.0
    deadline: Seconds | None = None


class BreakerSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    threshold: Count = 3
    window: Seconds = 60.0
    reset_timeout: Delay = 30.0
    probes: Count = 1


class Entry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One component of the registry file: metadata plus a command or a Python callable."""

    name: Name
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
    isolation: Isolation = "process"
    sandbox: Rights = Rights()
    pass_env: tuple[str, ...] = ()

    def retry_policy(self) -> RetryPolicy | None:
        return None if self.retry is None else RetryPolicy(**msgspec.structs.asdict(self.retry))

    def breaker_policy(self) -> BreakerPolicy | None:
        return None if self.breaker is None else BreakerPolicy(**msgspec.structs.asdict(self.breaker))


class RegistryFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: Literal[1] = 1
    exclude: str = "^$"
    stages: dict[str, StageConfig] = msgspec.field(default_factory=dict)
    components: tuple[Entry, ...] = ()


class Registry(msgspec.Struct, frozen=True):
    """A loaded registry: where it came from (None: no file), its entries and stages."""

    path: str | None
    entries: tuple[Entry, ...] = ()
    exclude: str = "^$"
    stages: dict[str, StageConfig] = msgspec.field(default_factory=dict)
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
        isolation=entry.isolation if entry.python is not None else "none",
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
