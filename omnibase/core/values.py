"""The plain values of a run: metadata, context, typed errors, step results, the report.

Every one is a frozen ``msgspec.Struct``: it compares by value, hashes, and encodes to
JSON, YAML or msgpack with no hand-written encoder. Nothing here does I/O.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeAlias

from typing_extensions import TypedDict, TypeVar

import msgspec

if TYPE_CHECKING:
    from returns.result import Result

__all__ = [
    "SCHEMA_VERSION",
    "CircuitOpen",
    "ComponentType",
    "ComponentTypeName",
    "ExecCtx",
    "ExitCode",
    "Failed",
    "GateDecision",
    "GraphNode",
    "Interrupted",
    "Isolation",
    "Lifecycle",
    "LifecycleName",
    "Limits",
    "Meta",
    "MetaFields",
    "Misconfigured",
    "PlanEntry",
    "Profiled",
    "RunMetrics",
    "InvocationTiming",
    "StepTiming",
    "ProtocolViolation",
    "Crashed",
    "Raised",
    "ResourceExceeded",
    "Rights",
    "RunReport",
    "SandboxViolation",
    "SecurityViolation",
    "Skip",
    "Status",
    "StepError",
    "StepResult",
    "Summary",
    "TimedOut",
    "Unresolved",
    "is_transient",
]

#: Bumped whenever the JSON shape of :class:`RunReport` changes incompatibly.
SCHEMA_VERSION = 1


class ComponentType(str, enum.Enum):
    """What a component is, as the spec's ``type`` filter sees it."""

    TOOL = "tool"
    VALIDATOR = "validator"
    TEST = "test"


#: ``ComponentType``'s values, for a ``type=`` given as text (a test holds the two equal).
ComponentTypeName: TypeAlias = Literal["tool", "validator", "test"]


class Lifecycle(str, enum.Enum):
    """How mature a component is; stages select on it."""

    CANARY = "canary"
    STABLE = "stable"
    DEPRECATED = "deprecated"
    EXPERIMENTAL = "experimental"


#: ``Lifecycle``'s values, for a ``lifecycle=`` given as text (a test holds the two equal).
LifecycleName: TypeAlias = Literal["canary", "stable", "deprecated", "experimental"]


class Status(str, enum.Enum):
    """The verdict of one step, and of a whole run."""

    PASS = "PASS"
    FAIL = "FAIL"
    WARN = "WARN"
    SKIP = "SKIP"


class ExitCode(enum.IntEnum):
    """The spec's exit codes, plus 130 for an interrupted run (the shell's convention)."""

    OK = 0
    FAILED = 1
    CONFIG = 2
    REGISTRY = 3
    PROTOCOL = 4
    SECURITY = 5
    INTERRUPTED = 130


#: Where a component runs: ``none`` in the calling process, ``process`` in a reused worker.
Isolation: TypeAlias = Literal["none", "process"]

_Positive = Annotated[int, msgspec.Meta(gt=0)]


class Limits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Resource limits (``setrlimit``) of a command or a worker invocation; breaking one is
    ``ResourceExceeded`` (exit 5). ``None`` leaves a resource unlimited. See docs/isolation.md."""

    cpu_seconds: _Positive | None = None
    memory_mb: _Positive | None = None
    file_size_mb: _Positive | None = None
    processes: _Positive | None = None


class Rights(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a sandboxed component may do: write under ``write`` (paths relative to the
    repository root, or absolute), open network connections, start processes. The defaults
    are the registry's: write inside the repository only, no network, no processes."""

    write: tuple[str, ...] = (".",)
    network: bool = False
    processes: bool = False


class Meta(msgspec.Struct, frozen=True, kw_only=True):
    """What a component declares about itself.

    ``idempotent`` components may be re-invoked by ``retry``; others never are.
    ``pure`` components only read and return values (a fixer returns its edits), so
    ``dry_run`` still runs them. ``timeout`` (seconds) bounds one invocation.
    ``input_type``/``output_type`` are the declared types' names, for reports and for
    checking that a pipeline's stages fit before it starts. ``isolation="process"`` runs the
    component in a worker process, which imports it by ``ref`` (``module:function``; derived
    from the function when empty); there ``sandbox`` (its rights, None: unrestricted) and
    ``limits`` apply. See docs/isolation.md.
    """

    name: str
    type: ComponentType = ComponentType.TOOL
    lifecycle: Lifecycle = Lifecycle.STABLE
    tags: frozenset[str] = frozenset()
    idempotent: bool = False
    pure: bool = False
    timeout: float | None = None
    description: str = ""
    input_type: str = "object"
    output_type: str = "object"
    isolation: Isolation = "none"
    ref: str = ""
    sandbox: Rights | None = None
    limits: Limits | None = None


class MetaFields(TypedDict, total=False):
    """``Meta``'s fields as keywords of ``component(...)``, typed: mypy rejects an unknown
    field or value (``type="validatr"``). ``type`` and ``lifecycle`` may be given as the
    member's value (``"validator"``); the decorator converts them, and refuses anything
    that is not a member, when the component is made."""

    name: str
    type: ComponentType | ComponentTypeName
    lifecycle: Lifecycle | LifecycleName
    tags: frozenset[str] | set[str] | tuple[str, ...] | list[str]
    idempotent: bool
    pure: bool
    timeout: float | None
    description: str
    input_type: str
    output_type: str
    isolation: Isolation
    ref: str
    sandbox: Rights | None
    limits: Limits | None


class ExecCtx(msgspec.Struct, frozen=True, kw_only=True):
    """The execution context handed to every component.

    ``seed`` makes retry jitter reproducible. ``dry_run`` tells a component (and the edge
    that applies edits) that nothing may be changed. ``files`` are the paths a stage
    selected, relative to ``root``.
    """

    run_id: str
    trace_id: str
    stage: str = "pipeline"
    seed: int = 0
    dry_run: bool = False
    root: str = "."
    files: tuple[str, ...] = ()
    params: frozenset[tuple[str, str]] = frozenset()
    parent_span_id: str = ""


# --- typed errors: a tagged union, so a decoded report gets the same classes back ----------


class Failed(msgspec.Struct, frozen=True, kw_only=True, tag="failed"):
    """The component ran and reported failure."""

    message: str
    transient: bool = False
    data: Any = None


class Raised(msgspec.Struct, frozen=True, kw_only=True, tag="raised"):
    """The component raised instead of returning a ``Result``.

    ``traceback`` is the formatted traceback (bounded), empty when none was captured.
    """

    exc_type: str
    message: str
    transient: bool = False
    traceback: str = ""


class ProtocolViolation(msgspec.Struct, frozen=True, kw_only=True, tag="protocol"):
    """The component broke its contract: not a ``Result``, or a value of the wrong type."""

    message: str
    transient: bool = False


class TimedOut(msgspec.Struct, frozen=True, kw_only=True, tag="timeout"):
    """The step ran past its time limit."""

    seconds: float
    transient: bool = True


class CircuitOpen(msgspec.Struct, frozen=True, kw_only=True, tag="circuit_open"):
    """The breaker for ``key`` was open; the component was not invoked. ``probe_at``: when
    (wall-clock seconds since the epoch) the breaker lets one trial call through."""

    key: str
    probe_at: float | None = None
    transient: bool = False


class SecurityViolation(msgspec.Struct, frozen=True, kw_only=True, tag="security"):
    """The component tried something its sandbox forbids."""

    message: str
    transient: bool = False


class SandboxViolation(msgspec.Struct, frozen=True, kw_only=True, tag="sandbox"):
    """The component attempted something its declared rights forbid (``action`` on ``target``,
    e.g. ``write`` on a path outside the allowed ones, ``connect``, ``spawn``). Exit 5."""

    action: str
    target: str = ""
    message: str = ""
    transient: bool = False


class ResourceExceeded(msgspec.Struct, frozen=True, kw_only=True, tag="resource"):
    """The component broke a resource limit (``resource``: cpu, memory, file_size, processes),
    as detected from what actually happened. Exit 5."""

    resource: str
    limit: float | int | None = None
    message: str = ""
    transient: bool = False


class Crashed(msgspec.Struct, frozen=True, kw_only=True, tag="crashed"):
    """The process running the component died (``cause``: e.g. ``exit status 0``,
    ``killed by SIGSEGV``) before answering. Exit 1: the run goes on."""

    cause: str
    exit_status: int | None = None
    signal: int | None = None
    transient: bool = False


class Misconfigured(msgspec.Struct, frozen=True, kw_only=True, tag="config"):
    """A configuration the run was given is wrong (``where`` names the file and line)."""

    message: str
    where: str = ""
    transient: bool = False


class Unresolved(msgspec.Struct, frozen=True, kw_only=True, tag="unresolved"):
    """A name the run needed (a component, a module, a command) could not be resolved."""

    name: str
    message: str
    transient: bool = False


class Interrupted(msgspec.Struct, frozen=True, kw_only=True, tag="interrupted"):
    """The run was interrupted (Ctrl-C) while this step was running."""

    transient: bool = False


StepError: TypeAlias = (
    Failed
    | Raised
    | ProtocolViolation
    | TimedOut
    | CircuitOpen
    | SecurityViolation
    | SandboxViolation
    | ResourceExceeded
    | Crashed
    | Misconfigured
    | Unresolved
    | Interrupted
)


def is_transient(error: StepError) -> bool:
    """The default retry predicate: retry what the error itself calls transient.

    >>> is_transient(TimedOut(seconds=1.0)), is_transient(Failed(message="no"))
    (True, False)
    """
    return error.transient


class Skip(msgspec.Struct, frozen=True, kw_only=True):
    """Return ``Success(Skip(reason=...))`` to report a step as SKIP (e.g. no files to check).

    The step counts as successful for what follows it, with ``None`` as its output.
    ``planned`` is the dry-run performer's answer for a component it did not call: the
    step is SKIP and what depends on its output is planned (not run) too.
    """

    reason: str = ""
    planned: bool = False


# --- results ------------------------------------------------------------------------------


class StepResult(msgspec.Struct, frozen=True, kw_only=True):
    """What happened to one component in a run.

    ``offset_s`` is when it started relative to the start of the run, ``duration_s`` how
    long its last attempt took; ``attempts`` counts invocations (0 when it was not run).
    """

    name: str
    status: Status
    span_id: str
    value: Any = None
    error: StepError | None = None
    attempts: int = 1
    offset_s: float = 0.0
    duration_s: float = 0.0
    reason: str = ""
    meta: Meta | None = None
    output: str = ""


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    """Counts by status and the overall verdict."""

    status: Status
    total: int = 0
    passed: int = 0
    failed: int = 0
    warned: int = 0
    skipped: int = 0


class PlanEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A dry run's answer for one component: would a real run run it (``selected``), and
    why or why not; ``preview`` says what the dry run itself did with it."""

    name: str
    selected: bool
    reason: str
    preview: str = ""


class InvocationTiming(msgspec.Struct, frozen=True, kw_only=True):
    """One invocation as the profile performer measured it (times in seconds; ``start_s``
    from the start of the run; ``lane`` a row where no two invocations overlap)."""

    name: str
    span_id: str
    attempt: int
    start_s: float
    wall_s: float
    cpu_s: float
    status: str
    lane: int = 0


class StepTiming(msgspec.Struct, frozen=True, kw_only=True):
    """All invocations of one component: attempts, wall and CPU time, backoff slept."""

    name: str
    attempts: int
    wall_s: float
    cpu_s: float
    backoff_s: float = 0.0
    timed_out: bool = False


class Profiled(msgspec.Struct, frozen=True, kw_only=True):
    """What the profile mode measured: per step, per invocation, per backoff sleep, the
    slowest steps (by wall time, slowest first) and the ones that timed out."""

    steps: tuple[StepTiming, ...] = ()
    invocations: tuple[InvocationTiming, ...] = ()
    sleeps: tuple[InvocationTiming, ...] = ()
    slowest: tuple[str, ...] = ()
    timeouts: tuple[str, ...] = ()
    wall_s: float = 0.0
    cpu_s: float = 0.0
    backoff_s: float = 0.0


class RunMetrics(msgspec.Struct, frozen=True, kw_only=True):
    """A run's metrics: steps by status, invocations (attempts), retries, breaker opens,
    timeouts, and a histogram of invocation durations (``buckets`` are upper bounds in
    seconds; ``counts[i]`` how many took at most ``buckets[i]``, cumulative)."""

    steps: dict[str, int] = msgspec.field(default_factory=dict)
    invocations: int = 0
    retries: int = 0
    breaker_opens: int = 0
    timeouts: int = 0
    buckets: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()
    duration_sum_s: float = 0.0
    duration_count: int = 0
    run_duration_s: float = 0.0


class GraphNode(msgspec.Struct, frozen=True, kw_only=True):
    """One node of a stage's graph, as data: what it needs, when it runs (the condition's
    name), its wave (0: needs nothing) and why it was skipped without running, if it was."""

    name: str
    needs: tuple[str, ...] = ()
    when: str = "all_succeeded"
    level: int = 0
    skip: str = ""


class GateDecision(msgspec.Struct, frozen=True, kw_only=True):
    """One decision of a stage's gating policy: about the stage (``subject`` the stage) or
    one component; ``verdict`` (run, refuse, pass, fail, warn, ignore) and why."""

    subject: str
    verdict: str
    reason: str
    rule: str = ""


Outcome: TypeAlias = Literal["completed", "interrupted"]

#: The type of a run's output; a bare ``RunReport`` is ``RunReport[Any]``.
T = TypeVar("T", default=Any)


class RunReport(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """The result of one run: ordered step results, summary, timing, exit code and trace ids.

    Identical pipeline plus identical answers give a byte-identical canonical encoding.
    """

    steps: tuple[StepResult, ...]
    summary: Summary
    exit_code: int
    run_id: str
    trace_id: str
    stage: str = "pipeline"
    started_at: float = 0.0
    duration_s: float = 0.0
    outcome: Outcome = "completed"
    output: T | None = None
    error: StepError | None = None
    profile: tuple[tuple[str, float], ...] = ()
    metadata: dict[str, str] = msgspec.field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    plan: tuple[PlanEntry, ...] = ()
    diff: str = ""
    profiled: Profiled | None = None
    metrics: RunMetrics | None = None
    snapshot: str = ""
    graph: tuple[GraphNode, ...] = ()
    gating: tuple[GateDecision, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the run's exit code is 0."""
        return self.exit_code == 0

    @property
    def results(self) -> tuple[Result[Any, StepError], ...]:
        """The steps as ``Result`` values, in order (the spec's "list of Result entries"),
        beside ``steps``: a failed step is ``Failure(error)``, any other ``Success(value)``
        (a skipped step's value is None). Computed, not stored: the report's JSON is the
        same.

        >>> r = RunReport(steps=(StepResult(name="a", status=Status.PASS, span_id="s", value=2),
        ...     StepResult(name="b", status=Status.FAIL, span_id="t", error=Failed(message="no"))),
        ...     summary=Summary(status=Status.FAIL), exit_code=1, run_id="r", trace_id="t")
        >>> r.results
        (<Success: 2>, <Failure: Failed(message='no', transient=False, data=None)>)
        """
        from returns.result import Failure, Success

        made: list[Result[Any, StepError]] = []
        for step in self.steps:
            if step.status is Status.FAIL:
                made.append(Failure(step.error if step.error is not None else Failed(message=step.reason or "failed")))
            else:
                made.append(Success(step.value))
        return tuple(made)
