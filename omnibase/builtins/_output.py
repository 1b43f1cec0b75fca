"""What a built-in check prints: the reference hook's output, from our verdicts.

A check judges file by file, but the reference hook prints for a whole batch of files:
a notice some options cause (before anything else), the findings (in file order, or
sorted where the hook sorts them), and a closing hint once when anything failed. The
check table (``CheckSpec.closing``, ``CheckSpec.sorted_output``) and the options
(``notice()``) hold those facts; ``hook_output`` puts them together, once, for every
place that shows a check's failure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from omnibase.builtins._values import Verdict

__all__ = ["hook_output"]


def hook_output(check: str, opts: Any, verdicts: Iterable[Verdict]) -> list[str]:
    """The lines the reference hook ``check`` prints, run with ``opts`` on the files of
    ``verdicts``: empty when all passed. Each failing verdict shows what it reports
    (``Verdict.reported``); a line an earlier verdict printed (a message about the run rather
    than a file) is not printed again. Joined with newlines (plus a last one), they are
    the reference's output wherever it does not depend on its own stack. A passing run
    prints nothing, not even a notice: pre-commit does not show a passing hook's output.

    >>> from omnibase.builtins import CHECKS, options_from_args
    >>> opts = options_from_args("check-vcs-permalinks", [])
    >>> link = b"https://github.com/a/b/blob/main/x.py#L3\\n"
    >>> verdict = CHECKS["check-vcs-permalinks"].fn("a.md", link, opts)
    >>> print("\\n".join(hook_output("check-vcs-permalinks", opts, [verdict])))
    a.md:1:https://github.com/a/b/blob/main/x.py#L3
    <BLANKLINE>
    Non-permanent github link detected.
    On any page on github press [y] to load a permalink.
    """
    from omnibase.builtins._classify import CHECKS

    spec = CHECKS[check]
    failed = [v for v in verdicts if not v.ok]
    if not failed:
        return []
    lines: list[str] = []
    printed: set[str] = set()
    for v in failed:
        mine = [f.message for f in v.reported()]
        lines += [line for line in mine if line not in printed]
        printed.update(mine)
    if spec.sorted_output:
        lines.sort()
    notice = list(opts.notice()) if opts is not None else []
    return notice + lines + ([spec.closing] if spec.closing else [])
