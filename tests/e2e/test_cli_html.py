"""``--format html`` and ``--report html=FILE`` through the real CLI on a real repository:
one self-contained page (read back with lxml's HTML parser), the same run in both, and
secrets redacted as in every other format."""

from __future__ import annotations

import pytest
from lxml import html as lhtml

pytestmark = pytest.mark.e2e

LEAK = """\
import os

from returns.result import Failure


def leak(ctx, value):
    return Failure("the token is " + os.environ.get("OMNI_TEST_TOKEN", "unset"))
"""

REGISTRY = """\
version: 1
components:
  - name: leak
    type: test
    python: "tools.leak:leak"
    isolation: none           # in the omnibase process, which has the variable
    always_run: true
"""


@pytest.fixture
def leaky(repo):
    return repo.seed({"omnibase.yaml": REGISTRY, "tools/__init__.py": "", "tools/leak.py": LEAK})


def test_html_on_stdout_and_in_a_report_file_show_the_same_run(leaky, cli, tmp_path):
    out = tmp_path / "r.html"
    r = cli("orch", "--stage", "test", "--format", "html", "--report", f"html={out}")
    assert r.code == 1, r
    for text in (r.out, out.read_text(encoding="utf-8")):
        doc = lhtml.document_fromstring(text)
        assert not doc.xpath("//script | //link | //img | //iframe | //object")
        assert [a.get("href")[:1] for a in doc.xpath("//a[@href]")] == ["#"] * len(doc.xpath("//a[@href]"))
        assert doc.xpath("//section[@id='failures']//h3")[0].text_content().split() == ["FAIL", "leak"]
        assert "the token is unset" in doc.get_element_by_id("failures").text_content()
        assert len(doc.xpath("//*[@id='graph-svg']//*[contains(@class, 'n ')]")) == 1
    run_id = lhtml.document_fromstring(r.out).xpath("//header//small")[0].text_content()
    assert run_id in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("target", "secret"),
    [("stdout", "s3cr3tValue42"), ("file", "s3cr3tValue42"), ("stdout", "s3cr3t&<Value>42"), ("file", "s3cr3t&<Value>42")],
)  # a secret with markup characters: redacted before it is escaped, or escaping would hide it
def test_secret_values_are_redacted_in_the_html_report(leaky, cli, tmp_path, target, secret):
    out = tmp_path / "r.html"
    r = cli("orch", "--stage", "test", "--format", "html", "--report", f"html={out}", env={"OMNI_TEST_TOKEN": secret})
    assert r.code == 1, r
    text = r.out if target == "stdout" else out.read_text(encoding="utf-8")
    doc = lhtml.document_fromstring(text)
    assert "the token is [redacted]" in doc.get_element_by_id("failures").text_content()
    assert secret not in doc.text_content() and secret not in text
