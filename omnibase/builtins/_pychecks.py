"""The Python-source checks of pre-commit-hooks 6.0.0 as pure functions.

check-builtin-literals, check-docstring-first, debug-statements, and the fixer
double-quote-string-fixer: each is ``(path, content, opts) -> Verdict`` and agrees with the
reference hook of the same name (verdict, wording, fixed bytes). Where the reference
crashes (a file it cannot parse or tokenize), the hook fails under pre-commit; so does
ours, with a one-line reason instead of a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from omnibase.builtins._recursion import AST_BUDGET, with_budget
from omnibase.builtins._values import BuiltinLiteralsOpts, Edit, NoOpts, Verdict

__all__ = ["check_builtin_literals", "check_docstring_first", "debug_statements", "double_quote_string_fixer",
           "fix_double_quotes"]


_verdict = Verdict.of


def _crashed(check: str, path: str, exc: BaseException) -> Verdict:
    return _verdict(check, path, [f"{path}: {type(exc).__name__}: {exc}".replace("\n", " ")])


def _parse(path: str, content: bytes) -> Any:
    import ast
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return with_budget(AST_BUDGET, lambda: ast.parse(content, filename=path))


def _preorder(tree: Any, *, into_calls: bool) -> Iterator[Any]:
    """Nodes in the order ``ast.NodeVisitor`` meets them (depth first, fields in order);
    without ``into_calls`` a call's own children are not visited. Iterative: no
    recursion limit to hit on deep trees."""
    import ast

    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.Call) and not into_calls:
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


_LITERALS = {"complex": "0j", "dict": "{}", "float": "0.0", "int": "0", "list": "[]", "str": "''", "tuple": "()"}


def check_builtin_literals(path: str, content: bytes, opts: BuiltinLiteralsOpts) -> Verdict:
    """Calls like ``list()`` or ``dict()`` (without arguments; ``dict(a=1)`` passes unless
    ``allow_dict_kwargs`` is off) fail: use the literal. Only calls outside any other
    call's arguments count, and ``builtins.list()`` never does, as in the reference."""
    import ast

    try:
        tree = _parse(path, content)
    except Exception as exc:
        return _crashed("check-builtin-literals", path, exc)
    wanted = set(_LITERALS) - set(opts.ignore)
    messages = []
    for node in _preorder(tree, into_calls=False):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or node.func.id not in wanted:
            continue
        name = node.func.id
        if name == "dict" and opts.allow_dict_kwargs and node.keywords:
            continue
        if node.args:
            continue
        messages.append(f"{path}:{node.lineno}:{node.col_offset}: replace {name}() with {_LITERALS[name]}")
    return _verdict("check-builtin-literals", path, messages)


def check_docstring_first(path: str, content: bytes, opts: NoOpts) -> Verdict:
    """A string token in column 0 is a docstring: a second one, or one after code, fails."""
    import io
    import tokenize

    skip = {tokenize.COMMENT, tokenize.ENDMARKER, tokenize.NEWLINE, tokenize.NL, tokenize.ENCODING}
    string = tokenize.STRING
    docstring: int | None = None
    code: int | None = None
    try:
        for kind, _, (line, col), _, _ in tokenize.tokenize(io.BytesIO(content).readline):
            if kind == string and col == 0:
                if docstring is not None:
                    message = f"{path}:{line}: Multiple module docstrings (first docstring on line {docstring})."
                    return _verdict("check-docstring-first", path, [message])
                if code is not None:
                    message = f"{path}:{line}: Module docstring appears after code (code seen on line {code})."
                    return _verdict("check-docstring-first", path, [message])
                docstring = line
            elif kind not in skip and code is None:
                code = line
    except Exception as exc:  # tokenize errors: the reference crashes, so fails
        return _crashed("check-docstring-first", path, exc)
    return _verdict("check-docstring-first", path, [])


_DEBUGGERS = frozenset({"bpdb", "ipdb", "pdb", "pdbr", "pudb", "pydevd_pycharm", "q", "rdb", "rpdb", "wdb"})


#: A debugger import or a ``breakpoint()`` call spells one of these words in the source.
_DEBUG_WORDS = re.compile(rb"\b(?:%s|breakpoint)\b" % b"|".join(sorted(d.encode() for d in _DEBUGGERS)))


#: What a coding declaration looks like (PEP 263), wherever it stands on its line: a
#: superset of what Python takes for one.
_CODING = re.compile(rb"coding[:=][ \t]*([-\w.]+)")


def _reads_as_ascii(content: bytes) -> bool:
    """Whether Python reads the ASCII bytes ``content`` as the same ASCII text: true
    unless a coding declaration in the first two lines (where Python looks, PEP 263)
    names a codec that decodes them otherwise (UTF-7) or that does not exist. Lines are
    cut at LF only, so a file with other line breaks is looked at further, never less
    far: a false "no" only costs the quick path."""
    first = content.find(b"\n")
    second = content.find(b"\n", first + 1) if first >= 0 else -1
    head = content if second < 0 else content[:second]
    if b"coding" not in head:
        return True
    for declared in _CODING.finditer(head):
        try:
            if content.decode(declared.group(1).decode("ascii")) != content.decode("ascii"):
                return False
        except (LookupError, UnicodeError, ValueError):
            return False
    return True


def debug_statements(path: str, content: bytes, opts: NoOpts) -> Verdict:
    """Imports of a debugger module (pdb, ipdb, pudb...) and ``breakpoint()`` calls fail;
    so does a file that does not parse.

    Speed: in ASCII source read as ASCII an identifier is spelled as it is named (no
    NFKC-equivalent letters), so when none of the words occurs there is nothing to find
    and the verdict is whether the file parses: check-ast's, which is quicker than
    building the tree. A coding cookie can make ASCII bytes mean other text (in UTF-7,
    ``import +AHA-db`` is ``import pdb``): such a file is parsed (``_reads_as_ascii``)."""
    import ast

    if content.isascii() and not _DEBUG_WORDS.search(content) and _reads_as_ascii(content):
        from omnibase.builtins._checks import check_ast
        from omnibase.builtins._values import AstOpts

        if check_ast(path, content, AstOpts()).ok:
            return _verdict("debug-statements", path, [])
    try:
        tree = _parse(path, content)
    except SyntaxError as exc:
        detail = f"{type(exc).__name__}: {exc}"
        return _verdict("debug-statements", path, [f"{path} - Could not parse ast\n\n\t{detail}"])
    except Exception as exc:
        return _crashed("debug-statements", path, exc)
    messages = []
    for node in _preorder(tree, into_calls=True):
        if isinstance(node, ast.Import):
            messages += [f"{path}:{node.lineno}:{node.col_offset}: {a.name} imported" for a in node.names
                         if a.name in _DEBUGGERS]
        elif isinstance(node, ast.ImportFrom):
            if node.module in _DEBUGGERS:
                messages.append(f"{path}:{node.lineno}:{node.col_offset}: {node.module} imported")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "breakpoint":
            messages.append(f"{path}:{node.lineno}:{node.col_offset}: breakpoint called")
    return _verdict("debug-statements", path, messages)


def _single_quoted(token: str) -> str:
    """``"x"`` -> ``'x'`` (with any prefix), unless triple-quoted or the body has a quote."""
    if '"""' in token or "'''" in token:
        return token
    letters = len(token) - len(token.lstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    if token[letters : letters + 1] != '"':
        return token
    body = token[letters + 1 : -1]
    if '"' in body or "'" in body:
        return token
    return f"{token[:letters]}'{body}'"


def fix_double_quotes(text: str) -> str:
    """Every double-quoted string token (outside f-strings on 3.12+) that can be
    single-quoted without escaping, single-quoted. Raises what tokenize raises.

    Token positions count lines as tokenize does (split after LF). The reference counts
    them with ``str.splitlines``, which also splits at a form feed, a lone CR and other
    Unicode line breaks, and so writes quotes in the wrong place in such files; we do
    not (the one place we deliberately differ from it)."""
    import io
    import tokenize

    starts = [-1, 0]
    for line in io.StringIO(text).readlines():  # split after LF only, as tokenize reads it
        starts.append(starts[-1] + len(line))
    fstring_start = getattr(tokenize, "FSTRING_START", -1)
    fstring_end = getattr(tokenize, "FSTRING_END", -1)
    chars = list(text)
    depth = 0
    for tok in reversed(list(tokenize.generate_tokens(io.StringIO(text).readline))):
        if tok.type == fstring_start:
            depth += 1
        elif tok.type == fstring_end:
            depth -= 1
        elif depth == 0 and tok.type == tokenize.STRING:
            (srow, scol), (erow, ecol) = tok.start, tok.end
            chars[starts[srow] + scol : starts[erow] + ecol] = _single_quoted(tok.string)
    return "".join(chars)


def double_quote_string_fixer(path: str, content: bytes, opts: NoOpts) -> Verdict:
    """double-quote-string-fixer: see ``fix_double_quotes`` (the file is UTF-8 text, its
    line endings kept)."""
    try:
        text = content.decode("utf-8")
        new = fix_double_quotes(text)
    except Exception as exc:  # not UTF-8, or not tokenizable: the reference crashes
        return _crashed("double-quote-string-fixer", path, exc)
    if new == text:
        return _verdict("double-quote-string-fixer", path, [])
    edit = Edit.make(path, content, new.encode("utf-8"))
    return _verdict("double-quote-string-fixer", path, [f"Fixing strings in {path}"], edit)
