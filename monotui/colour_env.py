"""What the environment asks of colour, read the same way by the TUI and the CLI."""

from __future__ import annotations

import os
from collections.abc import Mapping


def no_color_asked(environ: Mapping[str, str] | None = None) -> bool:
    """NO_COLOR is "present and not an empty string" (no-color.org): `NO_COLOR=` keeps colour on."""
    return (os.environ if environ is None else environ).get("NO_COLOR", "") != ""
