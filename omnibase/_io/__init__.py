"""Git, the `.git/omnibase/` state layout, atomic writes and the safe opener: the file-system edge."""
