"""The client's request encoding: a law (decode inverts encode) over any arguments, paths
and environments a process can have (no NUL; no ``=`` in a variable's name)."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnibase import _client

_text = st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=20)
_names = st.text(st.characters(blacklist_characters="\0=", blacklist_categories=("Cs",)), min_size=1, max_size=10)


@given(argv=st.lists(_text, max_size=6), cwd=_text, env=st.dictionaries(_names, _text, max_size=6),
       umask=st.integers(0, 0o777), key=_text)
def test_decode_inverts_encode(argv: list[str], cwd: str, env: dict[str, str], umask: int, key: str) -> None:
    body = _client.encode_request(argv, cwd, env, umask, key)
    assert _client.decode_request(body) == (key, cwd, umask, argv, env)


@pytest.mark.parametrize("body", [b"", b"STATUS", b"RUN\0k\0/\0022", b"RUN\0k\0/\0022\09\0a", b"RUN\0k\0/\0zz\00"])
def test_what_is_not_a_request_is_a_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        _client.decode_request(body)


def test_surrogate_escaped_bytes_survive() -> None:
    name = os.fsdecode(b"caf\xe9")
    body = _client.encode_request([name], name, {"X": name}, 0o22, "k")
    assert _client.decode_request(body) == ("k", name, 0o22, [name], {"X": name})
