"""`monotui demo --print-config` and `--write-config PATH`: the configuration the demo itself uses — its sources
(the deploy API, the flag source, Prometheus and Alertmanager when started) and its protected services and flags —
as a TOML file, so `monotui status`, `flags` and the actions from another terminal see exactly what the demo's TUI
sees and protect what it protects."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monotui.config import Settings


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a TOML basic string: JSON's escapes are TOML's


def config_text(settings: Settings, url: str) -> str:
    """The demo's sources, protections and links as TOML (the keys the demo set, nothing of the user's own config)."""
    lines = [f"# monotui demo: the simulated production on {url}",
             "# the sources and protected names the demo's TUI uses; start the demo with the same --port first", ""]
    if settings.protected_services:
        lines.append(f"protected_services = {_value(list(settings.protected_services))}")
    if settings.protected_flags:
        lines.append(f"protected_flags = {_value(list(settings.protected_flags))}")
    links = settings.links.model_dump(mode="json", exclude_none=True, exclude={"services"})
    if links:
        lines += ["", "[links]", *(f"{key} = {_value(value)}" for key, value in sorted(links.items()))]
    for source in settings.sources:
        data = source.model_dump(mode="json", exclude_unset=True)
        lines += ["", "[[sources]]"]
        for key in ("name", "kind", *sorted(k for k in data if k not in ("name", "kind"))):
            if key in data:
                lines.append(f"{key} = {_value(data[key])}")
        if "token_env" in data:
            lines.append(f"# {data['token_env']} holds the token in the demo's own environment only")
    return "\n".join(lines) + "\n"


def write_config(path: Path, text: str) -> None:
    """Write the file whole (a reader never sees half of it)."""
    path = path.expanduser()
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
