"""``@component`` checks the call shape ``(ctx, value)`` when the component is made."""

from __future__ import annotations

import functools
import time
from typing import Any

import pytest
from returns.result import Result, Success

from omnibase import ExecCtx, component, run
from omnibase.testing import fake_ctx


def test_a_function_without_ctx_is_refused_at_decoration_naming_it_and_the_expected_shape() -> None:
    with pytest.raises(TypeError) as caught:

        @component  # type: ignore[arg-type]  # mypy rejects it too; this is the run without mypy
        def no_ctx(value: int) -> Result[int, str]:
            return Success(value)

    message = str(caught.value)
    assert message.startswith("@component no_ctx (")
    assert f"{__file__}:" in message  # where it is defined
    assert "no_ctx(value) cannot be called as no_ctx(ctx, value)" in message
    assert "def no_ctx(ctx: ExecCtx, value: A) -> Result[B, E]" in message


@pytest.mark.parametrize(
    ("params", "shown"),
    [
        ("", "f()"),
        ("ctx, value, extra", "f(ctx, value, extra)"),
        ("ctx, value, *, must", "f(ctx, value, *, must)"),
        ("*, ctx, value", "f(*, ctx, value)"),
    ],
)
def test_every_shape_that_cannot_take_two_positional_arguments_is_refused(params: str, shown: str) -> None:
    namespace: dict[str, Any] = {}
    exec(f"def f({params}): return None", namespace)
    with pytest.raises(TypeError, match=r"f\(ctx, value\)") as caught:
        component(namespace["f"])
    assert shown in str(caught.value)


@pytest.mark.parametrize(
    "params",
    ["ctx, value", "ctx, value, /", "ctx, value, extra=1", "*args", "ctx, *rest", "ctx, value, *, opt=2", "ctx, value, **kw"],
)
def test_shapes_that_take_ctx_and_value_are_accepted(params: str) -> None:
    namespace: dict[str, Any] = {}
    exec(f"def f({params}): return Success(1)", {"Success": Success}, namespace)
    assert run(component(namespace["f"]), 0, fake_ctx()).exit_code == 0


def test_callable_objects_and_partials_are_judged_by_the_call_they_receive() -> None:
    class Doubler:
        def __call__(self, ctx: ExecCtx, value: int) -> Result[int, str]:
            return Success(2 * value)

    def scaled(ctx: ExecCtx, value: int, factor: int) -> Result[int, str]:
        return Success(factor * value)

    assert run(component(Doubler(), name="double"), 2, fake_ctx()).output == 4
    assert run(component(functools.partial(scaled, factor=3), name="triple"), 2, fake_ctx()).output == 6
    with pytest.raises(TypeError, match=r"@component bound: bound\(factor\) cannot"):
        component(functools.partial(scaled, 1, 2), name="bound")  # type: ignore[arg-type]


def test_a_wrapper_is_judged_by_its_own_signature_not_the_wrapped_one() -> None:
    def one(value: int) -> Result[int, str]:
        return Success(value)

    @functools.wraps(one)
    def adapter(ctx: ExecCtx, value: int) -> Result[int, str]:
        return one(value)

    assert run(component(adapter), 5, fake_ctx()).output == 5


def test_the_check_costs_microseconds_once_per_component() -> None:
    from omnibase.core.signature import call_shape_error

    def fine(ctx: ExecCtx, value: int) -> Result[int, str]:
        return Success(value)

    start = time.perf_counter()
    for _ in range(10_000):
        assert call_shape_error(fine, "fine") is None
    per_call = (time.perf_counter() - start) / 10_000
    assert per_call < 50e-6, per_call  # about 1 us here; a generous bound against a slow machine
