"""What a command says besides its report: one line on stderr, or data on stdout.

Every command's problems end as one ``say`` line (secrets redacted, bad bytes escaped);
listings go to stdout through ``dump``, as json or yaml.
"""

from __future__ import annotations

import os
import sys

__all__ = ["dump", "say"]


def say(message: str) -> None:
    """One line on stderr, with secret environment values redacted and bad bytes escaped."""
    from omnibase.core.redact import printable, redact, secret_values

    print(printable(redact(f"omnibase: {message}", secret_values(os.environ))), file=sys.stderr)


def dump(data: object, fmt: str) -> None:
    """``data`` on stdout: yaml for ``fmt`` "yaml", else indented json."""
    if fmt == "yaml":
        import yaml

        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True))
    else:
        import json

        print(json.dumps(data, indent=2, ensure_ascii=False))
