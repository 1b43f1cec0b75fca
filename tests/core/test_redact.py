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
