"""The call keys a failure snapshot records (``omnibase.snapshots.recorded``): each is
``call_key(name, input)``, whether the components got the very same input object (hashed
once) or equal inputs, or inputs that lived only while they were recorded."""

from __future__ import annotations

from returns.result import Success

from omnibase.core.intents import Called
from omnibase.snapshots import call_key, recorded


def _called() -> Called:
    return Called(Success(None), None, 10, 20)


def test_shared_equal_and_distinct_inputs_each_get_their_own_key():
    files = ("a.py", "b.py")
    calls = [
        ("lint", "s1", 1, files, _called()),
        ("fmt", "s2", 1, files, _called()),  # the very same input
        ("ast", "s3", 1, ("a.py", "b.py"), _called()),  # an equal one
        ("json", "s4", 1, ("c.json",), _called()),  # another
        ("lint", "s5", 2, files, _called()),
    ]
    keys = [c.key for c in recorded(calls, 0)]
    assert keys == [call_key(name, value) for name, _, _, value, _ in calls]
    assert keys[0].split(":")[1] == keys[2].split(":")[1] != keys[3].split(":")[1]


def test_inputs_made_one_by_one_are_not_taken_for_each_other():
    # each input exists only while the generator yields it: an id may come back for
    # another object, which must not inherit the first one's key
    made = ((f"c{i}", f"s{i}", 1, [f"f{i}.py"], _called()) for i in range(50))
    out = recorded(made, 0)
    assert [c.key for c in out] == [call_key(f"c{i}", [f"f{i}.py"]) for i in range(50)]
