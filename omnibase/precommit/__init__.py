"""omnibase as a git hook: check exactly what is committed (``_stash``), install the
hook scripts (``_install``). Edges: these modules run git and write under ``.git/``."""
