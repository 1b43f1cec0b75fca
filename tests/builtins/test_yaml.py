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
