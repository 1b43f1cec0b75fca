"""Runtime type checks: agree with msgspec's strict conversion; the registry's type names."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from returns.result import Result, Success

from omnibase import ExecCtx, Failed, all_of, component, fallback, retry
from omnibase.core.types import TYPE_NAMES, accept_all, checker, input_error, type_named

TYPES: list[Any] = [int, str, float, bool, bytes, list[str], list[int], dict[str, int], dict[str, object],
                    tuple[int, str], int | None, Literal["a", "b"], list[dict[str, int]]]
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3) | st.binary(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3) | st.tuples(inner, inner),
    max_leaves=6,
)


def _is(value: object, tp: Any) -> bool:
    """A plain reference for the types above, written from what each type means."""
    origin, args = getattr(tp, "__origin__", None), getattr(tp, "__args__", ())
    if tp is object:
        return True
    if tp in (int, float):
        return isinstance(value, (int, float) if tp is float else int) and not isinstance(value, bool)
    if tp in (str, bool, bytes):
        return isinstance(value, tp)
    if origin is list:
        return type(value) is list and all(_is(v, args[0]) for v in value)
    if origin is dict:
        return type(value) is dict and all(type(k) is str and _is(v, args[1]) for k, v in value.items())
    if origin is tuple:
        return type(value) is tuple and len(value) == len(args) and all(_is(v, a) for v, a in zip(value, args))
    if origin is Literal:
        return isinstance(value, str) and value in args
    return value is None or _is(value, int)  # int | None


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(TYPES), VALUES)
def test_checker_agrees_with_a_reference_of_what_each_type_means(tp: Any, value: object) -> None:
    assert checker(tp)(value) == _is(value, tp)


def test_object_and_any_accept_everything_and_user_classes_use_isinstance() -> None:
    class Report(msgspec.Struct):
        n: int

    assert checker(object) is accept_all and checker(Any) is accept_all
    assert checker(Report)(Report(1)) and not checker(Report)({"n": 1})
    assert checker(list[Report])([Report(1)]) and not checker(list[Report])([{"n": 1}])


@pytest.mark.parametrize("name", sorted(TYPE_NAMES))
def test_every_registry_type_name_has_a_checker(name: str) -> None:
    tp = type_named(name)
    assert tp is not None or name == "None"
    checker(tp)  # builds without error


def test_type_names_tolerate_spacing_and_refuse_unknown_names() -> None:
    assert type_named("dict[str,int]") == dict[str, int]
    assert type_named(" dict[str,  int] ") == dict[str, int]
    assert type_named("list[ str ]") == list[str]
    assert type_named("Path") is None and type_named("") is None


@component(idempotent=True)
def double(ctx: ExecCtx, n: int) -> Result[int, Failed]:
    return Success(2 * n)


@component
def shout(ctx: ExecCtx, text: str) -> Result[str, Failed]:
    return Success(text.upper())


def test_input_error_checks_every_component_that_receives_the_input() -> None:
    assert input_error(retry(double) >> double, 2) is None
    assert input_error(double, True) == "double takes int, was given bool: True"
    assert input_error(all_of(double, double), "x") == "double takes int, was given str: 'x'"
    mixed: Any = all_of([double, shout])
    assert input_error(mixed, 3) == "shout takes str, was given int: 3"
    assert input_error(fallback(double, double), 1.5) is not None
    assert input_error(double, "y" * 100).endswith("...")  # type: ignore[union-attr]


@settings(max_examples=60, deadline=None)
@given(VALUES)
def test_a_component_checks_its_declared_output_in_full_as_lift_does(value: object) -> None:
    """``component`` and ``lift`` share one checker: a ``list[str]`` output holding an int is
    a protocol violation (exit 4) for both, not only a wrong container."""
    from omnibase import lift, run
    from omnibase.testing import fake_ctx

    @component
    def made(ctx: ExecCtx, x: int) -> Result[list[str], str]:
        return Success(value)  # type: ignore[arg-type]

    def plain(x: int) -> list[str]:
        return value  # type: ignore[return-value]

    expected = 0 if _is(value, list[str]) else 4
    assert run(made, 1, fake_ctx()).exit_code == expected
    assert run(lift(plain), 1, fake_ctx()).exit_code == expected


# --- a type mismatch names the element at fault ------------------------------------------------


class Item(msgspec.Struct, frozen=True):
    name: str


@pytest.mark.parametrize(
    ("value", "tp", "message"),
    [
        ([Item("a"), Item("b"), Item("c"), 3], list[Item], "f returned list, declared list[Item]: [3]: expected Item, got int"),
        ((Item("a"),), list[Item], "f returned tuple, declared list[Item]"),
        ("three", int, "f returned str, declared int"),
        ({"a": [1], "b": [2, None]}, dict[str, list[int]], "f returned dict, declared dict[str, list[int]]: ['b'][1]: expected int, got NoneType"),
        ({1: "a"}, dict[str, str], "f returned dict, declared dict[str, str]: [1] (a key): expected str, got int"),
        ((1, "x"), tuple[int, int], "f returned tuple, declared tuple[int, int]: [1]: expected int, got str"),
        ((1,), tuple[int, int], "f returned tuple, declared tuple[int, int]: the tuple: expected 2 items, got 1"),
        ((1, 2, "3"), tuple[int, ...], "f returned tuple, declared tuple[int, ...]: [2]: expected int, got str"),
        ([[1], [2, "x"]], list[list[int]], "f returned list, declared list[list[int]]: [1][1]: expected int, got str"),
        ([1, None], list[int | str], "f returned list, declared list[int | str]: [1]: expected int | str, got NoneType"),
        ([True], list[int], "f returned list, declared list[int]: [0]: expected int, got bool"),
    ],
)
def test_a_wrong_output_is_blamed_on_its_first_wrong_element(value: object, tp: Any, message: str) -> None:
    from omnibase.core.types import output_error

    assert not checker(tp)(value)
    assert output_error("f", value, tp) == message


def test_the_interpreters_check_names_the_wrong_element() -> None:
    """(The process performer's checks, in the worker and in the parent, are driven
    through the CLI in tests/e2e/test_cli_human.py.)"""
    from omnibase import run
    from omnibase.testing import fake_ctx

    @component
    def items(ctx: ExecCtx, n: int) -> Result[list[Item], str]:
        return Success([Item("a"), 3])  # type: ignore[list-item]

    report = run(items, 1, fake_ctx())
    assert report.exit_code == 4
    assert getattr(report.steps[0].error, "message", "") == "items returned list, declared list[Item]: [1]: expected Item, got int"
