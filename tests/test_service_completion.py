"""Service names complete in bash, zsh and fish (click's completion protocol, driven through its environment
variables as the shells' scripts do): from the configured sources, and from the cache of names when the sources
cannot answer; a broken config or an unreachable source with no cache completes nothing, quietly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from monotui.simulator.server import SimulatorServer

from .conftest import make_world

ENV_VAR = "_MONOTUI_COMPLETE"


def config_for(url: str, tmp_path: Path) -> Path:
    config = tmp_path / "c.toml"
    config.write_text(f'audit_log = "{tmp_path / "state" / "audit.log"}"\n\n[[sources]]\nname = "prod"\n'
                      f'kind = "http"\nurl = "{url}"\n')
    return config


def complete(shell: str, words: list[str], config: Path | None) -> tuple[list[str], str, float]:
    """What monotui answers the shell for the last word of `words`: the names offered, stderr, seconds taken."""
    env = {**os.environ, ENV_VAR: f"{shell}_complete", "COMP_WORDS": " ".join(["monotui", *words]),
           # bash and zsh: the index of the word completed; fish: the word itself (click's protocol)
           "COMP_CWORD": words[-1] if shell == "fish" else str(len(words))}
    env.pop("MONOTUI_CONFIG", None)
    if config is not None:
        env["MONOTUI_CONFIG"] = str(config)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "monotui"], env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    out = done.stdout
    if shell == "bash":  # "plain,NAME" per line
        names = [line.split(",", 1)[1] for line in out.splitlines() if line.startswith("plain,")]
    elif shell == "zsh":  # type, value, help: three lines each
        lines = out.splitlines()
        names = [lines[i + 1] for i in range(0, len(lines) - 2, 3) if lines[i] == "plain"]
    else:  # fish: "plain,NAME"
        names = [line.split(",", 1)[1] for line in out.splitlines() if line.startswith("plain,")]
    return names, done.stderr, took


def test_service_names_complete_in_every_shell(tmp_path: Path) -> None:
    world = make_world()
    with SimulatorServer(world, tick_interval=None) as sim:
        config = config_for(sim.url, tmp_path)
        for shell in ("bash", "zsh", "fish"):
            names, err, _ = complete(shell, ["rollback", "car"], config)
            assert names == ["cart-api"], (shell, names, err)
        names, _, _ = complete("bash", ["pause", ""], config)
        assert sorted(names) == sorted(world.services)
        names, _, _ = complete("bash", ["freeze", "--service", "au"], config)
        assert names == ["auth-api"]
        names, _, _ = complete("bash", ["--config", str(config), "abort", "ch"], None)  # --config on the line
        assert names == ["checkout-api"]


def test_offline_the_cache_of_names_answers(tmp_path: Path) -> None:
    with SimulatorServer(make_world(), tick_interval=None) as sim:
        config = config_for(sim.url, tmp_path)
        assert complete("bash", ["rollback", "car"], config)[0] == ["cart-api"]  # names kept in the cache
    cache = tmp_path / "state" / "completion-names.json"
    kept = json.loads(cache.read_text())
    cache.write_text(json.dumps({**kept, "time": 1000.0}))  # an old cache: the source is asked first
    names, err, _ = complete("bash", ["rollback", "car"], config)  # the source is gone: the old names answer
    assert names == ["cart-api"] and err == ""


def test_unreachable_without_cache_or_a_broken_config_completes_nothing_quietly(tmp_path: Path) -> None:
    config = config_for("http://127.0.0.1:9", tmp_path)
    names, err, _ = complete("bash", ["rollback", "ca"], config)
    assert names == [] and err == ""
    broken = tmp_path / "broken.toml"
    broken.write_text("sources = 3\n")
    names, err, _ = complete("bash", ["rollback", "ca"], broken)
    assert names == [] and err == ""
