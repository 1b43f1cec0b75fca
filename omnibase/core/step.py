"""A pipeline is a value: an immutable tree of ``Step`` nodes.

Leaves are components; inner nodes are combinators. Building a tree runs nothing; the
interpreter walks it. ``Step[A, B]`` takes an ``A`` and produces a ``B``, and
``Step[A, B] >> Step[B, C]`` is a ``Step[A, C]`` (a mismatch is a mypy error).

Every node kind describes itself (see ``Step``), so that ``core.shape`` turns any tree
into its ``Shape`` (data) and back, and pictures and outlines are drawn, without a list of
kinds anywhere. This module is therefore every kind at once, and longer than most.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import Annotated, Any, ClassVar, Generic, Literal, Protocol, TypeAlias, TypeVar, overload

import msgspec
from returns.result import Result
from typing_extensions import Unpack

from omnibase.core.policies import BreakerPolicy, RetryPolicy
from omnibase.core.signature import call_shape_error
from omnibase.core.values import ExecCtx, GraphNode, Meta, MetaFields, StepError

__all__ = [
    "AllOf",
    "Breaker",
    "Component",
    "DryRun",
    "Fallback",
    "Identity",
    "KINDS",
    "Layout",
    "Profile",
    "Recover",
    "Retry",
    "RetryShape",
    "Shape",
    "Step",
    "Then",
    "Timeout",
    "component",
    "leaves",
]

A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)


#: How a picture lays out a node's parts: one after another, side by side, a named graph,
#: or nothing (a leaf is drawn as itself).
Layout: TypeAlias = Literal["leaf", "seq", "par", "graph"]


#: The ranges a shape's numbers are read in (a snapshot is a file anyone could edit):
#: finite, and wide enough for any pipeline a person builds.
_Attempts = Annotated[int, msgspec.Meta(ge=1, le=10_000)]
_Delay = Annotated[float, msgspec.Meta(ge=0, le=1e9)]
_Seconds = Annotated[float, msgspec.Meta(gt=0, le=1e9)]
_Count = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]


class RetryShape(msgspec.Struct, frozen=True, kw_only=True):
    """A ``RetryPolicy`` without its predicates (a function is not data): a rebuilt retry
    uses the default predicate (retry what the error calls transient)."""

    max_attempts: _Attempts
    initial: _Delay
    multiplier: _Delay
    cap: _Delay
    jitter: _Delay
    deadline: _Delay | None = None


class Shape(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A step's structure as data: its kind (``Step.kind``), its name, its parts, and the
    data of its kind (a policy, a timeout...). What a failure snapshot stores, what its
    outline and pictures are drawn from, and what a pipeline is rebuilt from on replay.
    Functions (recover handlers, hooks, predicates) are not data: they are left out, and
    a node that needs one cannot be rebuilt."""

    kind: str
    name: str
    children: tuple[Shape, ...] = ()
    retry: RetryShape | None = None
    breaker: BreakerPolicy | None = None
    key: str = ""
    fail_fast: bool = False
    seconds: _Seconds | None = None
    graph: tuple[GraphNode, ...] = ()
    maxfail: _Count | None = None
    flow: bool = False
    pre: tuple[str, ...] = ()
    post: tuple[str, ...] = ()


#: Every node kind by its ``kind`` name; a subclass of ``Step`` that names a kind joins it.
KINDS: dict[str, type[Step[Any, Any]]] = {}


class Step(Generic[In, Out]):
    """Base of every node. Immutable: combinators build new nodes around old ones.

    Each node kind describes itself, so that walking a tree needs no list of kinds: its
    ``children()`` in evaluation order and how many it takes (``arity``), its ``kind``
    name and ``details()`` (the data of its ``Shape``), how to ``restore`` it from a
    shape, how a picture lays it out (``picture``), how an outline tags it (``tag``), and
    whether its output type is its children's (``keeps_type``). A new combinator is a
    subclass here with these, a function in ``core.combinators``, and a handler in the
    interpreter marked ``@handles(NewKind)``.
    """

    __slots__ = ("name",)
    name: str
    #: The kind's name in shapes; set by every concrete kind.
    kind: ClassVar[str] = ""
    #: How a picture lays out the children (see ``picture``).
    layout: ClassVar[Layout] = "seq"
    #: How many children a node of this kind has: at least, and at most (None: any number).
    arity: ClassVar[tuple[int, int | None]] = (0, 0)
    #: Whether the node's output type is its children's (``A -> A`` around ``A -> A`` steps);
    #: a fan-out's is a tuple.
    keeps_type: ClassVar[bool] = True

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "name", name)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:
            KINDS[cls.kind] = cls

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __rshift__(self, other: Step[Out, C]) -> Step[In, C]:
        """Sequence: feed this step's output to ``other``; stop at the first failure."""
        return Then(self, other)

    def or_else(self, alternative: Step[In, Out], /) -> Step[In, Out]:
        """``fallback(self, alternative)``: on failure run ``alternative`` on the same input.

        ``alternative`` must produce this step's own output type, not a wider one (the
        reason this is a method: ``self`` fixes the types, so a mismatch is a mypy error).
        """
        return Fallback(self, alternative)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    def children(self) -> tuple[Step[Any, Any], ...]:
        """The sub-steps, in evaluation order (a ``>>`` chain as one flat sequence)."""
        return ()

    def details(self) -> dict[str, Any]:
        """The fields of this node's ``Shape`` besides its kind, name and children."""
        return {}

    @classmethod
    def restore(cls, shape: Shape, parts: tuple[Step[Any, Any], ...]) -> Step[Any, Any] | str:
        """The node ``shape`` describes, around ``parts`` (its children, rebuilt, as many
        as ``arity`` allows), or why it cannot be rebuilt (one line). May raise
        ``ValueError`` on out-of-range data."""
        return cannot_rebuild(shape)

    @classmethod
    def picture(cls, shape: Shape) -> tuple[Layout, Sequence[Any]]:
        """How a picture draws ``shape``: a layout and its parts (shapes; for a ``graph``
        layout, ``(name, part, needs, condition, skip reason)`` tuples)."""
        return cls.layout, shape.children

    @classmethod
    def tag(cls, shape: Shape) -> str | None:
        """The words an outline puts beside the one step this node wraps (``retry x3``),
        or None when the node is a line of its own."""
        return None


def _type_name(tp: object) -> str:
    if isinstance(tp, type):
        return tp.__qualname__
    return repr(tp).replace("typing.", "")


def _make_checker(tp: object) -> Callable[[object], bool] | None:
    """The runtime check of a declared output type (``core.types.checker``: ``isinstance``
    for plain classes, msgspec's strict conversion for ``list[str]``, unions, literals...),
    or None when every value passes."""
    from omnibase.core.types import accept_all, checker

    check = checker(tp)
    return None if check is accept_all else check


class Component(Step[In, Out]):
    """A leaf: a callable ``(ExecCtx, A) -> Result[B, E]`` (or an ``async def`` one) and
    its ``Meta``.

    ``in_type``/``out_type`` are the declared types themselves (``object`` when unknown),
    kept so that a stored value can be decoded back to its type (replay) and checked.
    ``check`` tells whether a successful value has the declared type; a value that fails it
    is a protocol violation. ``is_async`` says that ``fn`` is a coroutine function, which
    only an asynchronous performer can await.
    """

    __slots__ = ("fn", "meta", "check", "in_type", "out_type", "is_async")
    kind = "component"
    layout: ClassVar[Layout] = "leaf"
    fn: Callable[[ExecCtx, Any], object]
    meta: Meta
    check: Callable[[object], bool] | None
    in_type: object
    out_type: object
    is_async: bool

    def __init__(
        self,
        fn: Callable[[ExecCtx, In], Result[Out, object]] | Callable[[ExecCtx, In], Coroutine[Any, Any, Result[Out, object]]],
        meta: Meta,
        check: Callable[[object], bool] | None = None,
        *,
        in_type: object = object,
        out_type: object = object,
    ) -> None:
        super().__init__(meta.name)
        object.__setattr__(self, "fn", fn)
        object.__setattr__(self, "meta", meta)
        object.__setattr__(self, "check", check)
        object.__setattr__(self, "in_type", in_type)
        object.__setattr__(self, "out_type", out_type)
        object.__setattr__(self, "is_async", inspect.iscoroutinefunction(fn))


def _declared_types(fn: Callable[..., object]) -> tuple[object, object]:
    """The declared input and output types of ``fn(ctx, x) -> Result[B, E]``."""
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # unresolvable annotations: no runtime check, not an error
        return object, object
    params = [v for k, v in hints.items() if k != "return"]
    arg = params[1] if len(params) >= 2 else object
    ret = hints.get("return", object)
    args = typing.get_args(ret)
    return arg, (args[0] if args else object)


def _meta_with(base: Meta, given: dict[str, Any]) -> Meta:
    """``base`` with the fields ``given``, each converted to its declared type (a member's
    value to the member, a list of tags to a frozenset) or refused.

    >>> _meta_with(Meta(name="x"), {"type": "validator"}).type
    <ComponentType.VALIDATOR: 'validator'>
    >>> _meta_with(Meta(name="x"), {"lifecycle": "canry"})
    Traceback (most recent call last):
    ...
    ValueError: component 'x': Invalid enum value 'canry' - at `$.lifecycle`
    """
    unknown = sorted(set(given) - set(Meta.__struct_fields__))
    if unknown:
        raise TypeError(f"component {base.name!r}: no such field: {', '.join(unknown)} (see omnibase.Meta)")
    try:
        return msgspec.convert({**msgspec.structs.asdict(base), **given}, Meta)
    except msgspec.ValidationError as exc:
        raise ValueError(f"component {base.name!r}: {exc}") from None


class ComponentDecorator(Protocol):
    """What ``component(**fields)`` returns: a decorator for sync or async functions."""

    @overload
    def __call__(self, fn: Callable[[ExecCtx, A], Result[B, object]], /) -> Component[A, B]: ...

    @overload
    def __call__(self, fn: Callable[[ExecCtx, A], Coroutine[Any, Any, Result[B, object]]], /) -> Component[A, B]: ...


# Sync overloads first: a function that fits neither is reported against the sync shape.
@overload
def component(fn: Callable[[ExecCtx, A], Result[B, object]], /) -> Component[A, B]: ...


@overload
def component(fn: Callable[[ExecCtx, A], Coroutine[Any, Any, Result[B, object]]], /) -> Component[A, B]: ...


@overload
def component(
    fn: Callable[[ExecCtx, A], Result[B, object]], /, *, meta: Meta | None = ..., **fields: Unpack[MetaFields]
) -> Component[A, B]: ...


@overload
def component(
    fn: Callable[[ExecCtx, A], Coroutine[Any, Any, Result[B, object]]], /, *, meta: Meta | None = ...,
    **fields: Unpack[MetaFields],
) -> Component[A, B]: ...


@overload
def component(fn: None = ..., /, *, meta: Meta | None = ..., **fields: Unpack[MetaFields]) -> ComponentDecorator: ...


def component(fn: Any = None, /, *, meta: Meta | None = None, **fields: Any) -> Any:
    """Make a component from a function ``(ctx, x) -> Result[B, E]``, or from an
    ``async def`` one (run it with ``arun`` / ``--mode async``).

    Use as ``component(fn, meta=Meta(...))``, or as a decorator ``@component`` /
    ``@component(idempotent=True, tags=frozenset({"lint"}))``. The name defaults to the
    function's name; input/output type names and the runtime output check come from its
    annotations. Any ``Meta`` field may be given as a keyword (``MetaFields``: typed;
    ``type``/``lifecycle`` also as text, converted here); an unknown field is a
    ``TypeError`` and a value ``Meta`` cannot hold a ``ValueError``, when the component
    is made, never later in a run.

    >>> from returns.result import Success
    >>> @component(idempotent=True)
    ... def double(ctx: ExecCtx, x: int) -> Result[int, str]:
    ...     return Success(2 * x)
    >>> double.meta.name, double.meta.idempotent, double.meta.output_type
    ('double', True, 'int')
    """

    def build(f: Callable[[ExecCtx, Any], Result[Any, object]]) -> Component[Any, Any]:
        arg, out = _declared_types(f)
        given = dict(fields)
        if meta is not None:
            base = meta
        else:
            label = given.pop("name", None) or getattr(f, "__name__", None)
            if not label or label == "<lambda>":  # a partial, a lambda, a callable object
                raise TypeError(f"component({f!r}): give it a name, e.g. component(fn, name='...')")
            base = Meta(name=label)
        wrong = call_shape_error(f, base.name)
        if wrong is not None:
            raise TypeError(wrong)
        for key, tp in (("input_type", arg), ("output_type", out)):
            if getattr(base, key) == "object":
                given.setdefault(key, _type_name(tp))
        final = _meta_with(base, given) if given else base
        return Component(f, final, _make_checker(out), in_type=arg, out_type=out)

    if fn is not None:
        return build(fn)
    return build


class Identity(Step[A, A]):
    """Passes its input through; records nothing. The unit of ``>>``."""

    __slots__ = ()
    kind = "identity"

    def __init__(self) -> None:
        super().__init__("identity")

    @classmethod
    def restore(cls, shape: Shape, parts: tuple[Step[Any, Any], ...]) -> Step[Any, Any] | str:
        return Identity()


class Then(Step[In, Out]):
    """``first >> second``. Chains of any length are walked without recursion."""

    __slots__ = ("first", "second")
    kind = "then"
    arity = (2, None)
    first: Step[Any, Any]
    second: Step[Any, Any]

    def __init__(self, first: Step[In, Any], second: Step[Any, Out], *, name: str | None = None) -> None:
        super().__init__(name or (f"{first.name} >> {second.name}" if _short(first, second) else "sequence"))
        object.__setattr__(self, "first", first)
        object.__setattr__(self, "second", second)

    def children(self) -> tuple[Step[Any, Any], ...]:
        """The whole chain, however it was nested: ``(a >> b) >> c`` and ``a >> (b >> c)``
        are both ``(a, b, c)``."""
        chain: list[Step[Any, Any]] = []
        stack: list[Step[Any, Any]] = [self]
        while stack:
            node = stack.pop()
            if type(node) is Then:
                stack += (node.second, node.first)
            else:
                chain.append(node)
        return tuple(chain)

    @classmethod
    def restore(cls, shape: Shape, parts: tuple[Step[Any, Any], ...]) -> Step[Any, Any] | str:
        return Then(functools.reduce(Then, parts[:-1]), parts[-1], name=shape.name)


def _short(first: Step[Any, Any], second: Step[Any, Any]) -> bool:
    # Names of long chains would grow quadratically; only small sequences get a composed name.
    return len(first.name) + len(second.name) < 80


def cannot_rebuild(shape: Shape, why: str = "it holds code, not data") -> str:
    """Why the node ``shape`` describes is not rebuilt: one line naming it."""
    return f"the snapshot's {shape.kind} node '{shape.name}' cannot be rebuilt ({why})"


class Wrapper(Step[In, Out]):
    """A combinator around one inner step, named after it unless given a name."""

    __slots__ = ("inner",)
    arity = (1, 1)
    inner: Step[In, Out]

    def __init__(self, inner: Step[In, Out], name: str | None = None) -> None:
        super().__init__(name or inner.name)
        object.__setattr__(self, "inner", inner)

    def children(self) -> tuple[Step[Any, Any], ...]:
        return (self.inner,)

    @classmethod
    def restore(cls, shape: Shape, parts: tuple[Step[Any, Any], ...]) -> Step[Any, Any] | str:
        return cls._around(shape, parts[0])

    @classmethod
    def _around(cls, shape: Shape, inner: Step[Any, Any]) -> Step[Any, Any] | str:
        """The node ``shape`` describes around its one rebuilt ``inner`` step, or why not."""
        return cannot_rebuild(shape)


class Retry(Wrapper[In, Out]):
    """Re-run ``inner`` on retryable failure, sleeping the policy's schedule.

    ``allowed`` is fixed at construction: False when any component inside is not
    idempotent, so such a component is never re-invoked.
    """

    __slots__ = ("policy", "allowed")
    kind = "retry"
    policy: RetryPolicy
    allowed: bool

    def __init__(self, inner: Step[In, Out], policy: RetryPolicy, *, name: str | None = None) -> None:
        super().__init__(inner, name)
        object.__setattr__(self, "policy", policy)
        object.__setattr__(self, "allowed", all(c.meta.idempotent for c in leaves(inner)))

    def details(self) -> dict[str, Any]:
        p = self.policy
        shape = RetryShape(
            max_attempts=p.max_attempts, initial=p.initial, multiplier=p.multiplier, cap=p.cap, jitter=p.jitter, deadline=p.deadline
        )
        return {"retry": shape}

    @classmethod
    def _around(cls, shape: Shape, inner: Step[Any, Any]) -> Step[Any, Any] | str:
        if shape.retry is None:
            return f"the snapshot's retry node '{shape.name}' has no policy"
        return Retry(inner, RetryPolicy(**msgspec.structs.asdict(shape.retry)), name=shape.name)

    @classmethod
    def tag(cls, shape: Shape) -> str | None:
        return f"retry x{shape.retry.max_attempts}" if shape.retry is not None else "retry"


class Breaker(Wrapper[In, Out]):
    """Short-circuit ``inner`` with ``CircuitOpen`` while its breaker (per ``key``) is open."""

    __slots__ = ("policy", "key")
    kind = "breaker"
    policy: BreakerPolicy
    key: str

    def __init__(self, inner: Step[In, Out], policy: BreakerPolicy, key: str | None = None, *, name: str | None = None) -> None:
        super().__init__(inner, name)
        object.__setattr__(self, "policy", policy)
        object.__setattr__(self, "key", key or inner.name)

    def details(self) -> dict[str, Any]:
        return {"breaker": self.policy, "key": self.key}

    @classmethod
    def _around(cls, shape: Shape, inner: Step[Any, Any]) -> Step[Any, Any] | str:
        return Breaker(inner, shape.breaker or BreakerPolicy(), shape.key or None, name=shape.name)

    @classmethod
    def tag(cls, shape: Shape) -> str | None:
        return "breaker"


class Timeout(Wrapper[In, Out]):
    """Fail ``inner`` with ``TimedOut`` once it runs longer than ``seconds``."""

    __slots__ = ("seconds",)
    kind = "timeout"
    seconds: float

    def __init__(self, inner: Step[In, Out], seconds: float, *, name: str | None = None) -> None:
        if not seconds > 0:
            raise ValueError("timeout must be positive")
        super().__init__(inner, name)
        object.__setattr__(self, "seconds", seconds)

    def details(self) -> dict[str, Any]:
        return {"seconds": self.seconds}

    @classmethod
    def _around(cls, shape: Shape, inner: Step[Any, Any]) -> Step[Any, Any] | str:
        if shape.seconds is None:
            return f"the snapshot's timeout node '{shape.name}' has no seconds"
        return Timeout(inner, shape.seconds, name=shape.name)

    @classmethod
    def tag(cls, shape: Shape) -> str | None:
        return f"timeout {shape.seconds:g}s" if shape.seconds is not None else "timeout"


class Profile(Wrapper[In, Out]):
    """Record how long ``inner`` took, under ``label``, in the report's ``profile``."""

    __slots__ = ()
    kind = "profile"

    @classmethod
    def _around(cls, shape: Shape, inner: Step[Any, Any]) -> Step[Any, Any] | str:
        return Profile(inner, shape.name)

    @classmethod
    def tag(cls, shape: Shape) -> str | None:
        return "profile"


class DryRun(Wrapper[In, Out]):
    """Run only ``pure`` components inside (with ``ctx.dry_run`` set); plan the rest."""

    __slots__ = ()
    kind = "dry_run"

    @classmethod
    def _around(cls, shape: Shape, inner: Step[Any, Any]) -> Step[Any, Any] | str:
        return DryRun(inner, shape.name)

    @classmethod
    def tag(cls, shape: Shape) -> str | None:
        return "dry-run"


class Recover(Wrapper[In, Out]):
    """On failure of ``inner``, produce a value from the error; the failures become WARN.
    Its handler is code: a recover node is never rebuilt from a snapshot."""

    __slots__ = ("handler",)
    kind = "recover"
    handler: Callable[[StepError], Any]

    def __init__(self, inner: Step[In, Out], handler: Callable[[StepError], Out]) -> None:
        super().__init__(inner)
        object.__setattr__(self, "handler", handler)


class Fallback(Wrapper[In, Out]):
    """On failure of ``inner``, run ``alternative`` on the same input; failures become WARN.
    A picture draws the alternative after ``inner`` (it runs after a failure)."""

    __slots__ = ("alternative",)
    kind = "fallback"
    arity = (2, 2)
    alternative: Step[Any, Any]

    def __init__(self, inner: Step[In, Out], alternative: Step[In, Out], *, name: str | None = None) -> None:
        super().__init__(inner, name)
        object.__setattr__(self, "alternative", alternative)

    def children(self) -> tuple[Step[Any, Any], ...]:
        return (self.inner, self.alternative)

    @classmethod
    def restore(cls, shape: Shape, parts: tuple[Step[Any, Any], ...]) -> Step[Any, Any] | str:
        return Fallback(parts[0], parts[1], name=shape.name)


class AllOf(Step[In, tuple[Any, ...]]):
    """Fan out: run every branch on the same input and collect their outputs in order.

    All branches run even when one fails (unless ``fail_fast``); a driver may run them
    concurrently. The outputs tuple is only produced when every branch succeeded.
    """

    __slots__ = ("branches", "fail_fast")
    kind = "all_of"
    layout: ClassVar[Layout] = "par"
    arity = (0, None)
    keeps_type = False
    branches: tuple[Step[Any, Any], ...]
    fail_fast: bool

    def __init__(self, branches: Sequence[Step[In, Any]], *, fail_fast: bool = False, name: str = "all_of") -> None:
        super().__init__(name)
        object.__setattr__(self, "branches", tuple(branches))
        object.__setattr__(self, "fail_fast", fail_fast)

    def children(self) -> tuple[Step[Any, Any], ...]:
        return self.branches

    def details(self) -> dict[str, Any]:
        return {"fail_fast": self.fail_fast}

    @classmethod
    def restore(cls, shape: Shape, parts: tuple[Step[Any, Any], ...]) -> Step[Any, Any] | str:
        return AllOf(parts, fail_fast=shape.fail_fast, name=shape.name)


def leaves(step: Step[Any, Any]) -> Iterator[Component[Any, Any]]:
    """Every component in ``step``, in evaluation order, without recursion."""
    stack: list[Step[Any, Any]] = [step]
    while stack:
        node = stack.pop()
        if isinstance(node, Component):
            yield node
        else:
            stack.extend(reversed(node.children()))
