"""``component(...)``'s metadata keywords: checked and converted when the component is
made, so a wrong value never reaches a run."""

from __future__ import annotations

import typing

import pytest
from returns.result import Result, Success

from omnibase.core.select import filter_by, parse_filter
from omnibase.core.step import component
from omnibase.core.values import ComponentType, ComponentTypeName, ExecCtx, Lifecycle, LifecycleName


def check(ctx: ExecCtx, x: object) -> Result[object, str]:
    return Success(x)


def test_text_naming_a_member_is_converted_and_filters_select_on_it() -> None:
    made = component(check, type="validator", lifecycle="canary", tags=["lint"])
    assert (made.meta.type, made.meta.lifecycle, made.meta.tags) == (ComponentType.VALIDATOR, Lifecycle.CANARY, frozenset({"lint"}))
    chosen = filter_by(parse_filter("type=validator,lifecycle=canary").unwrap(), [made, component(check, name="other")])
    assert [c.name for c in chosen.kept] == ["check"]


@pytest.mark.parametrize(
    ("fields", "error", "says"),
    [
        ({"type": "validatr"}, ValueError, "component 'check': Invalid enum value 'validatr' - at `$.type`"),
        ({"lifecycle": 3}, ValueError, "component 'check': Expected `str`, got `int` - at `$.lifecycle`"),
        ({"timeout": "soon"}, ValueError, "at `$.timeout`"),
        ({"idempotnt": True}, TypeError, "component 'check': no such field: idempotnt"),
    ],
)
def test_anything_else_is_refused_when_the_component_is_made(fields: dict[str, object], error: type, says: str) -> None:
    with pytest.raises(error, match="^" + re_escape(says) if says.startswith("component") else re_escape(says)):
        component(check, **fields)  # type: ignore[arg-type]
    with pytest.raises(error):
        component(**fields)(check)  # type: ignore[arg-type, call-overload]


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


def test_the_text_names_are_the_enums_values() -> None:
    assert typing.get_args(ComponentTypeName) == tuple(m.value for m in ComponentType)
    assert typing.get_args(LifecycleName) == tuple(m.value for m in Lifecycle)
