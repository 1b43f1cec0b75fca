"""The client's request encoding: a law (decode inverts encode) over any arguments, paths
and environments a process can have (no NUL; no ``=`` in a variable's name)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnibase.server import client as _client

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


def test_the_key_changes_with_omnibase_s_code_version_and_search_path(tmp_path: Path) -> None:
    import shutil

    package = tmp_path / "omnibase"
    shutil.copytree(os.path.dirname(os.path.dirname(_client.__file__)), package, ignore=shutil.ignore_patterns("__pycache__"))
    first = _client.key({}, str(package))
    assert _client.key({}, str(package)) == first
    deep = package / "builtins" / "_run.py"
    later = max(p.stat().st_mtime_ns for p in package.rglob("*.py")) + 10**9
    os.utime(deep, ns=(later, later))  # an edit deep in the package
    edited = _client.key({}, str(package))
    assert edited != first
    (package / "_version.py").write_text('__version__ = "9.9.9"\n')
    os.utime(package / "_version.py", ns=(0, 0))  # not newer: the version alone changes the key
    assert _client.key({}, str(package)) != edited
    assert _client.key({"PYTHONPATH": "/elsewhere"}, str(package)) != _client.key({}, str(package))
