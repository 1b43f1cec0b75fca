"""check-yaml's fallback loader (PyYAML, used when ruamel.yaml is not installed) against
the reference's loader (ruamel.yaml), on the corpus plus the cases that motivated it."""

from __future__ import annotations

import pytest
from tests.builtins._builtins_ref import TEXT_CORPUS, YAML_CORPUS

from omnibase.builtins._yaml import ruamel_available, yaml_error_ruamel
from omnibase.builtins._yaml_twin import yaml_error_pyyaml

EXTRA = {
    "tabs_in_flow_map.yaml": b"{a:\t1,\tb: 2}\n",
    "anchor_colon.yaml": b"a: &x 1\nb: *x\n",
    "dup_after_merge.yaml": b"<<: {a: 1}\nb: 1\nb: 2\n",
    "merge_list.yaml": b"x: &x {a: 1}\ny: &y {b: 1}\nz:\n  <<: [*x, *y]\n",
    "merge_list_scalar.yaml": b"z:\n  <<: [1]\n",
    "yaml11_sexagesimal.yaml": b"%YAML 1.1\n---\n1:30: a\n90: b\n",
    "yaml11_octal.yaml": b"%YAML 1.1\n---\n010: a\n8: b\n",
    "pairs.yaml": b"!!pairs [a: 1, a: 2]\n",
    "bad_bool.yaml": b"a: !!bool maybe\n",
    "bad_float.yaml": b"a: !!float x\n",
    "seq_tag_on_scalar.yaml": b"a: !!seq x\n",
    "timestamp_keys.yaml": b"2001-01-01: a\n2001-01-01: b\n",
    "null_keys.yaml": b"null: 1\n~: 2\n",
    "empty_keys.yaml": b"'': 1\n? \n: 2\n",
    "recursive_key.yaml": b"&a {*a : 1}\n",
}

#: Where the fallback is known to differ from ruamel.yaml 0.19 (a scanner difference the
#: fallback does not re-implement): NEL and LS are line breaks to PyYAML, not in YAML 1.2.
KNOWN_DIFFERENT = {"nel.txt", "unicode_ws.txt"}

CORPUS = {**YAML_CORPUS, **EXTRA, **{k: v for k, v in TEXT_CORPUS.items() if len(v) < 10_000}}


def test_check_yaml_runs_on_the_references_loader_when_installed():
    assert ruamel_available()


@pytest.mark.parametrize(("multi", "unsafe"), [(False, False), (True, False), (False, True)])
def test_the_fallback_agrees_with_ruamel_yaml(multi: bool, unsafe: bool):
    differ = []
    for name, data in CORPUS.items():
        ours = yaml_error_pyyaml(data, name, multi=multi or unsafe, unsafe=unsafe)
        ref = yaml_error_ruamel(data, name, multi=multi or unsafe, unsafe=unsafe)
        if (ours is None) != (ref is None):
            differ.append(name)
    assert set(differ) <= KNOWN_DIFFERENT, differ


def test_known_differences_of_the_fallback_are_still_differences():
    # if one of these starts to agree, the fallback (or ruamel.yaml) changed: update the docs
    for data in (b"--- |\nfoo\n", b"a: \xc2\x85b\n"):
        assert (yaml_error_pyyaml(data, "t", multi=False, unsafe=False) is None) != (
            yaml_error_ruamel(data, "t", multi=False, unsafe=False) is None
        )


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
