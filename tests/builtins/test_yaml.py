"""check-yaml's loader: the reference's own (ruamel.yaml), one file at a time."""

from __future__ import annotations

from omnibase.builtins._yaml import ruamel_available


def test_check_yaml_runs_on_the_references_loader():
    assert ruamel_available()


def test_each_file_is_checked_on_its_own():
    # the reference's shared loader carries a %YAML 1.1 directive over to the next file
    # of its batch (here: 0o10 and 8 stop being the same key); we never carry state over
    from omnibase.builtins import CHECKS, parse_options

    check = CHECKS["check-yaml"]
    opts = parse_options("check-yaml", {})
    later = b"0o10: a\n8: b\n"
    alone = check.fn("b.yaml", later, opts)
    check.fn("a.yaml", b"%YAML 1.1\n---\nx: 1\n", opts)
    assert check.fn("b.yaml", later, opts) == alone
    assert not alone.ok


# --- the plain subset: provably loadable, no parser run ---------------------------------

import random  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from omnibase.builtins._yaml import plainly_loadable, yaml_error_ruamel  # noqa: E402

#: keys and values near the subset's edges: words the core schema reads otherwise,
#: timestamps, signs, underscores, indicators, non-ASCII, a tab
_KEYS = ["a", "b", "key", "a-b", "k_1", "true", "True", "null", "NULL", "on", "y", "e1", "x" * 130, "_a", "1a", "a b"]
_VALUES = [
    "", "1", "1.5", "0123", "word", "two words", "a/b.c", "x -", "true", "~", "2001-12-14", "2001-13-45", "_", "1_0",
    "-1", ".inf", "a:b", "a: b", "a #c", "'q'", '"q"', "*x", "&x v", "!t v", "[1]", "{a: 1}", "|", ">", "é", "a\tb",
    "@x", "%x", "`x",
]
_GOOD_KEYS = ["a", "b", "key", "a-b", "k_1", "on", "y", "e1", "name"]
_GOOD_VALUES = ["1", "1.5", "0123", "word", "two words", "a/b.c", "x -", "true", "null", "no"]


def _tree(rng: random.Random, depth: int, indent: int, out: list[str]) -> None:
    """A well-formed block mapping or sequence, as lines."""
    if rng.random() < 0.3:
        for _ in range(rng.randint(1, 3)):
            out.append(" " * indent + "- " + rng.choice(_GOOD_VALUES))
        return
    for key in rng.sample(_GOOD_KEYS, rng.randint(1, 4)):
        if depth < 3 and rng.random() < 0.3:
            out.append(" " * indent + key + ":")
            _tree(rng, depth + 1, indent + rng.choice([1, 2, 4]), out)
        else:
            out.append(" " * indent + key + ": " + rng.choice(_GOOD_VALUES))


def _document(rng: random.Random, lines: int) -> bytes:
    """A well-formed plain document with up to two of its lines spoilt (a key or value
    from the edges of the subset, another indentation, a stray line)."""
    out: list[str] = []
    _tree(rng, 0, 0, out)
    out = out[: max(1, lines)]
    for _ in range(rng.choice([0, 0, 1, 2])):
        i = rng.randrange(len(out))
        line = out[i]
        how = rng.random()
        if how < 0.3 and ":" in line:
            head, _, _ = line.partition(":")
            out[i] = head + ": " + rng.choice(_VALUES) if rng.random() < 0.5 else line.replace(head.strip(), rng.choice(_KEYS), 1)
        elif how < 0.5:
            out[i] = " " * rng.choice([0, 1, 2, 3, 4, 6]) + line.lstrip(" ")
        elif how < 0.6:
            out.insert(i, out[i])  # a key twice
        elif how < 0.8:
            out.insert(i, rng.choice(["", "# note " + rng.choice(_VALUES), "---", "...", "%YAML 1.2", "\x07", "k: v\r", "  - x"]))
        else:
            out[i] = line + " " + rng.choice(_VALUES)
    return ("\n".join(out) + rng.choice(["\n", "", "\n\n"])).encode()


def _loads(content: bytes) -> bool:
    return all(yaml_error_ruamel(content, "f.yaml", multi=m, unsafe=u) is None for m, u in ((False, False), (True, False), (False, True)))


@settings(max_examples=400, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), lines=st.integers(1, 12))
def test_a_document_in_the_plain_subset_loads_in_every_mode(seed, lines):
    document = _document(random.Random(seed), lines)
    if plainly_loadable(document):
        assert _loads(document), document


def test_the_plain_subset_holds_everyday_flat_and_nested_documents():
    # concrete documents a person writes (so the shortcut is not vacuous) and near misses
    # that the parser alone must judge
    assert plainly_loadable(b"name: demo\nversion: 1.5\nitems:\n  - one\n  - two\nnested:\n  deeper:\n    key: value\n")
    assert plainly_loadable(b"# top comment\n- a\n- b\n")
    for miss in [b"a: 1\na: 2\n", b"a: 1\nA: 2\nTrue: 3\ntrue: 4\n", b"a:\n- x\n", b"a: b\n  c\n", b"  a: 1\n",
                 b"a: 2001-13-45\n", b"a: 1 # c\n", b"a: 1\r\n", b"\xef\xbb\xbfa: 1\n", b"a:\tb\n", b""]:
        assert not plainly_loadable(miss), miss


def test_generated_documents_reach_both_sides_of_the_subset():
    documents = [_document(random.Random(seed), 6) for seed in range(400)]
    inside = [d for d in documents if plainly_loadable(d)]
    assert 20 <= len(inside) < len(documents)
    assert all(_loads(d) for d in inside)
