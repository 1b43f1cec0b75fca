"""``omnibase.core.redact``: which names are secret, which values are hidden, in what order."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnibase.core.redact import MIN_SECRET, is_secret_name, redact, secret_values


@pytest.mark.parametrize(
    "name",
    ["GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD", "MYSQL_PASSWD", "API_KEY", "GOOGLE_CREDENTIALS",
     "SSH_PRIVATE", "BASIC_AUTH", "SESSION_COOKIE", "FLASK_SESSION", "git_token"],
)
def test_secret_looking_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["HOME", "PATH", "GIT_DIR", "LANG", "CI", "TERM"])
def test_ordinary_names(name: str) -> None:
    assert not is_secret_name(name)


def test_a_value_at_the_minimum_length_is_hidden_and_a_shorter_one_is_not() -> None:
    assert MIN_SECRET == 4
    found = secret_values({"A_KEY": "k3y!", "B_KEY": "abc", "HOME": "/root/longer"})
    assert found == ("k3y!",)
    assert redact("k3y! abc /root/longer", found) == "[redacted] abc /root/longer"


def test_longer_secrets_go_first_so_one_containing_another_is_hidden_whole() -> None:
    env = {"SHORT_TOKEN": "abcd", "LONG_TOKEN": "xxabcdyy" * 3, "MID_TOKEN": "abcdyy"}
    found = secret_values(env)
    assert found == ("xxabcdyy" * 3, "abcdyy", "abcd")
    assert redact("[" + "xxabcdyy" * 3 + "] abcdyy abcd", found) == "[[redacted]] [redacted] [redacted]"


@given(st.text(min_size=MIN_SECRET, max_size=40).filter(lambda s: "[redacted]" not in s), st.text(max_size=40))
def test_no_secret_value_survives_redaction(secret: str, around: str) -> None:
    text = around + secret + around
    assert secret not in redact(text, secret_values({"X_TOKEN": secret}))


def test_json_forms_hide_a_secret_in_json_text_whatever_json_escaped() -> None:
    import json

    from omnibase.core.redact import json_forms

    secret = 'p"a\\ss\té-word'
    for text in (json.dumps({"v": secret}), json.dumps({"v": secret}, ensure_ascii=False)):
        assert "[redacted]" in redact(text, json_forms([secret]))
        assert json.loads(redact(text, json_forms([secret])))["v"] == "[redacted]"


# --- what a user relies on: names, lengths, order, JSON text, bytes that are not UTF-8 ----------


@pytest.mark.parametrize("name", ["GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_AUTHOR_DATE", "CARGO_PKG_AUTHORS", "author"])
def test_an_author_is_no_secret(name: str) -> None:
    """``AUTH`` inside ``AUTHOR`` names a person, not a credential: git's author variables
    reach commands and their values are shown in reports."""
    assert not is_secret_name(name)


@pytest.mark.parametrize("name", ["GIT_AUTHOR_TOKEN", "AUTHOR_API_KEY", "AUTHORIZATION", "HTTP_AUTHORIZATION", "OAUTH_CLIENT", "SSH_AUTH_SOCK", "AUTH"])
def test_auth_outside_the_word_author_still_looks_secret(name: str) -> None:
    assert is_secret_name(name)


def test_a_git_author_is_shown_and_a_token_beside_it_is_not() -> None:
    env = {"GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.org", "NPM_TOKEN": "npm_s3cr3t"}
    out = redact("commit by Ada Lovelace <ada@example.org> with npm_s3cr3t", secret_values(env))
    assert out == "commit by Ada Lovelace <ada@example.org> with [redacted]"


def test_a_longer_secret_is_hidden_whole_whichever_variable_holds_it() -> None:
    """The bug report: ``abcdefgh`` shown as ``[redacted]efgh`` when ``abcd`` went first."""
    for env in ({"A_TOKEN": "abcd", "B_TOKEN": "abcdefgh"}, {"B_TOKEN": "abcdefgh", "A_TOKEN": "abcd"}):
        found = secret_values(env)
        assert found == ("abcdefgh", "abcd")
        assert redact("x=abcdefgh y=abcd", found) == "x=[redacted] y=[redacted]"


def test_secrets_of_one_length_come_in_a_fixed_order_and_a_repeated_value_once() -> None:
    env = {"Z_KEY": "wxyz", "A_KEY": "abcd", "M_KEY": "abcd", "B_KEY": "mnop"}
    assert secret_values(env) == ("abcd", "mnop", "wxyz")
    assert secret_values(dict(reversed(env.items()))) == ("abcd", "mnop", "wxyz")


def test_only_values_of_secret_looking_names_are_hidden() -> None:
    assert secret_values({"HOME": "/home/someone", "EDITOR": "nano-editor"}) == ()
    assert redact("/home/someone", secret_values({"HOME": "/home/someone"})) == "/home/someone"


def test_every_occurrence_is_hidden_and_text_without_secrets_is_unchanged() -> None:
    assert redact("k3y! and k3y!k3y!", ["k3y!"]) == "[redacted] and [redacted][redacted]"
    assert redact("nothing here", ["k3y!"]) == "nothing here"
    assert redact("", ["k3y!"]) == ""


def test_a_secret_whose_json_form_holds_another_secret_is_hidden_whole() -> None:
    """``ab"cdef`` is ``ab\\"cdef`` in JSON text, which holds the other secret ``cdef``:
    hiding ``cdef`` first would leave ``ab\\"`` of the first one in the snapshot."""
    import json

    from omnibase.core.redact import json_forms

    first, second = 'ab"cdef', "cdef"
    for secrets in ([first, second], [second, first]):
        forms = json_forms(secrets)
        assert list(forms) == sorted(forms, key=len, reverse=True)
        text = json.dumps({"first": first, "second": second})
        out = redact(text, forms)
        assert out == '{"first": "[redacted]", "second": "[redacted]"}'
        assert json.loads(out) == {"first": "[redacted]", "second": "[redacted]"}


def test_json_forms_of_a_non_ascii_secret_are_its_raw_and_its_escaped_spelling() -> None:
    from omnibase.core.redact import json_forms

    assert json_forms(["pässwörd"]) == ("p\\u00e4ssw\\u00f6rd", "pässwörd")
    assert json_forms(['tab\there']) == ("tab\\there", "tab\there")
    assert json_forms(["plain"]) == ("plain",)
    assert json_forms([]) == ()


def test_json_forms_of_one_length_come_in_a_fixed_order() -> None:
    from omnibase.core.redact import json_forms

    assert json_forms(["dddd", "bbbb", "cccc"]) == ("bbbb", "cccc", "dddd")


def test_bound_keeps_text_up_to_the_limit_and_counts_the_rest_in_utf8_bytes() -> None:
    from omnibase.core.redact import bound

    assert bound("abcd", 4) == "abcd"
    assert bound("abcde", 4) == "abcd\n... 1 bytes more"
    assert bound("abé€", 2) == "ab\n... 5 bytes more"
    # a name that was not UTF-8 (a lone surrogate) counts as the three bytes it would take
    assert bound("ab\udcff", 2) == "ab\n... 3 bytes more"


def test_printable_leaves_valid_text_alone() -> None:
    from omnibase.core.redact import printable

    assert printable("plain ascii") == "plain ascii"
    assert printable("naïve — 日本") == "naïve — 日本"


def test_printable_shows_bytes_that_were_not_utf8_as_hex() -> None:
    """Output or a file name read with ``surrogateescape`` keeps its stray bytes as
    surrogates; they are shown as ``\\xNN`` and the rest of the text as it was."""
    from omnibase.core.redact import printable

    name = b"caf\xe9-\xff.txt".decode("utf-8", "surrogateescape")
    assert printable(name) == "caf\\xe9-\\xff.txt"
    mixed = "é ".encode() + b"\x80"
    assert printable(mixed.decode("utf-8", "surrogateescape")) == "é \\x80"


def test_printable_shows_a_lone_surrogate_that_is_no_byte_as_its_code_point() -> None:
    """A surrogate that surrogateescape cannot have made (outside U+DC80..U+DCFF), e.g. half
    of a UTF-16 pair from a JSON ``\\ud83d``: the whole text falls back to ``\\uXXXX``."""
    from omnibase.core.redact import printable

    assert printable("half \ud83d pair") == "half \\ud83d pair"
    assert printable("é\ud800") == "é\\ud800"
    assert printable("\udcff and \ud800") == "\\udcff and \\ud800"
    for text in ("half \ud83d pair", "\udcff and \ud800", "x\udcff"):
        printable(text).encode("utf-8")  # always valid UTF-8
