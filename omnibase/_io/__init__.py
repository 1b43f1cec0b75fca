"""The file-system edge, one module per rule:

- ``git``: the one place omnibase runs git, and the one that finds the git directory
  (``repo_paths``); user-given refs reach git through ``commit_of``/``tree_of`` only;
- ``state``: every path under ``.git/omnibase/``, named once, and the one check of that
  folder (``make_state_dir``);
- ``paths``: ``contained``, the one containment check for paths read or written on the
  user's behalf;
- ``atomic``: ``write_atomic``, the one writer of whole files (``durable`` fsyncs);
- ``outputs``: the one safe opener for files the user names (``--report``, ``-o``,
  ``--metrics-out``, ``--profile-out``, ``--log-file``).
"""
