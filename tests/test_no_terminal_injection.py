"""no string from a server reaches the terminal as a control sequence.

One hostile world: every text field of every model, from every kind of source monotui reads — the deploy API
(rollouts, revisions, events), Argo Rollouts objects (messages, conditions, pause reasons, images) as the Kubernetes
API serves and watches them, Prometheus labels, Alertmanager labels and annotations, Unleash flags, strategies,
tags and events — holds ESC/CSI/OSC (a window title, the clipboard), DCS, C1 controls, bidi overrides and
isolates, backspaces and carriage returns. monotui runs on it in a real pseudo-terminal and is driven through every
panel and dialog; the RAW byte stream it writes must hold no control sequence but the app's own. The CLI's
`status`/`flags` (table and `--json`) and the audit log of a kill switch on the hostile flag are checked the same way.
(monotui reads no core/v1 Event objects: Kubernetes reaches it as the watched Argo objects above.)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse

from monotui.simulator import kube_api
from monotui.simulator.flags import PRODUCTION
from monotui.simulator.server import SimulatorServer
from monotui.simulator.world import SimConfig, World

from .hostile import HostileServer
from .terminal import Terminal

# drives real terminals with timing: run alone, after the parallel suite (`-m terminal`, as README and .ci/run do)
pytestmark = [pytest.mark.xdist_group("benches"), pytest.mark.terminal]
ROOT = Path(__file__).resolve().parent.parent
# a window title (OSC 0), the clipboard (OSC 52), "report the title" and "report the cursor" (CSI 21 t, CSI 6 n),
# C1 CSI / OSC / ST, bidi override and isolate, backspaces, a carriage return, a DCS request
PAYLOAD = ("\x1b]0;PWN-title\x07\x1b]52;c;UFdORUQ=\x07\x1b[21t\x1b[6n\x9b6n\x9d0;PWN\x9c\u202eNWP\u202c\u2066"
           "\x08\x08\rX\x1bP+qPWN\x1b\\")
FORBIDDEN = [b"\x1b]0;PWN", b"\x1b]52;", b"\x1b[21t", b"\x1b[6n", b"\x1bP+q", b"\x08",
             "\u202e".encode(), "\u202c".encode(), "\u2066".encode()]
C1 = re.compile(rb"\xc2[\x80-\x9f]")
# every escape sequence the app may write: CSI, OSC, DCS/APC/PM strings, charset selections, keypad modes
SEQUENCE = re.compile(rb"\x1b\[[0-9;?<>=$]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[P^_X].*?\x1b\\"
                      rb"|\x1b[()][0-9A-Za-z]|\x1b[=>78]", re.DOTALL)


ESCAPE = "\x1b[27;1u"  # the Escape key as an unambiguous sequence: a lone ESC and the next key would be Alt+key


def bad(tag: str) -> str:
    return f"{tag}{PAYLOAD}"


def assert_inert(raw: bytes, where: str) -> None:
    """No hostile control in `raw`, and no control sequence that is not one the app writes itself."""
    for needle in FORBIDDEN:
        assert needle not in raw, f"{where}: {needle!r} reached the stream at {raw.find(needle)}"
    assert not C1.search(raw), f"{where}: a C1 control reached the stream: {C1.search(raw)}"
    for match in SEQUENCE.finditer(raw):
        assert b"PWN" not in match.group() and b"NWP" not in match.group(), \
            f"{where}: a server's text inside a control sequence: {match.group()[:80]!r}"
    rest = SEQUENCE.sub(b"", raw)
    stray = re.search(rb"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)", rest)
    assert stray is None, \
        f"{where}: a stray control {stray.group()!r}: {rest[max(0, stray.start() - 60):stray.end() + 20]!r}"


# ---- the hostile world ---------------------------------------------------------------------------------------


FLAG = "cart-api." + bad("flag")
# fields whose hostile text must be seen on the screen (visibly escaped), one or more per kind of source
SHOWN = ("env", "msg", "ver", "c", "img", "commit", "author", "event",  # deploy API
         "flag", "strategy", "enabler",  # Unleash
         "alert", "sev", "summary", "lname", "amsvc",  # Alertmanager
         "cond", "argopause", "argoimg",  # Argo Rollouts
         "promerr")  # Prometheus (its labels but the service's are never shown; nor other Argo fields)


def hostile_world() -> World:
    """The simulator's production, every text a server sends poisoned: deploy API and Unleash Admin API."""
    world = World(SimConfig(services=4, seed=21, deploy_interval=0, names=("cart-api", "search-api")))
    for svc in world.services.values():
        svc.environment = bad("env")
        svc.message = bad("msg")
        svc.pause_reason = bad("pause")
        for release in {id(r): r for r in [*svc.history, svc.stable, svc.current]}.values():
            release.version, release.commit, release.image = bad("ver"), bad("c"), bad("img")
            release.commit_message, release.author = bad("commit"), bad("author")
    world.events = type(world.events)(
        (msgspec.structs.replace(e, message=bad("event"), actor=bad("actor")) for e in world.events),
        maxlen=world.events.maxlen)
    flags = world.flags
    flags.create("default", FLAG, type_=bad("type"), description=bad("desc"), actor=bad("creator"))
    flags.tag(FLAG, "service", "cart-api")
    flags.tag(FLAG, bad("tagtype"), bad("tagvalue"))
    flags.add_strategy("default", FLAG, PRODUCTION, bad("strategy"), {"p": bad("param")}, actor=bad("stractor"))
    flags.set_enabled("default", FLAG, PRODUCTION, True, actor=bad("enabler"))
    return world


def hostile_argo() -> list[dict[str, Any]]:
    objects = kube_api.synthetic(2, 1)
    for obj in objects:
        if obj["kind"] == "Rollout":
            status = obj["status"]
            status["message"] = bad("argomsg")
            status["conditions"] = [{"type": "Progressing", "status": "False",
                                     "reason": "ProgressDeadlineExceeded", "message": bad("cond")},
                                    {"type": "Available", "status": "False", "reason": bad("reason"),
                                     "message": bad("available")}]
            status["pauseConditions"] = [{"reason": bad("argopause"), "startTime": "2026-01-01T00:00:00Z"}]
            obj["metadata"]["annotations"]["note"] = bad("annotation")
        for container in obj["spec"]["template"]["spec"]["containers"]:
            container["image"] = bad("argoimg")
    return objects


def prometheus(request: Request) -> JSONResponse:
    labels = {"service": "cart-api", "pod": bad("pod"), bad("labelname"): bad("labelvalue")}
    stranger = {"service": bad("promsvc")}
    if request.url.path.endswith("query_range"):
        return JSONResponse({"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": labels, "values": [[1.0e9, "0.5"]]}, {"metric": stranger, "values": [[1.0e9, "0.1"]]}]}})
    return JSONResponse({"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": labels, "value": [1.0e9, "0.5"]}, {"metric": stranger, "value": [1.0e9, "0.1"]}]}})


def failing_prometheus(request: Request) -> JSONResponse:
    """A second Prometheus whose every query fails, saying why (the source's status shows it)."""
    return JSONResponse({"status": "error", "errorType": bad("errtype"), "error": bad("promerr")})


def alertmanager(request: Request) -> JSONResponse:
    alerts = [{"fingerprint": bad("fp"), "startsAt": "2026-01-01T00:00:00Z",
               "labels": {"alertname": bad("alert"), "service": "cart-api", "severity": bad("sev"),
                          bad("lname"): bad("lvalue")},
               "annotations": {"summary": bad("summary"), "description": bad("description")},
               "status": {"state": "active", "silencedBy": []}},
              {"fingerprint": "f2", "startsAt": "2026-01-01T00:00:00Z",
               "labels": {"alertname": "Other", "service": bad("amsvc")}, "annotations": {},
               "status": {"state": "active", "silencedBy": []}}]
    return JSONResponse(alerts)


@pytest.fixture
def hostile_config(tmp_path: Path) -> Iterator[Path]:
    prom_routes = {"/api/v1/query": prometheus, "/api/v1/query_range": prometheus}
    with SimulatorServer(hostile_world(), tick_interval=None) as sim, HostileServer(prom_routes) as prom, \
            HostileServer({"/api/v2/alerts": alertmanager}) as am, kube_api.KubeStandin(hostile_argo()) as kube, \
            HostileServer({"/api/v1/query": failing_prometheus}) as prom_down:
        kubeconfig = kube.kubeconfig(tmp_path / "kubeconfig")
        config = tmp_path / "config.toml"
        config.write_text(
            f'audit_log = "{tmp_path / "audit.log"}"\nactor = "tester"\n'
            f'[[sources]]\nname = "prod"\nkind = "http"\nurl = "{sim.url}"\npoll_interval = 1\n'
            f'[[sources]]\nname = "flags"\nkind = "unleash"\nurl = "{sim.url}"\npoll_interval = 1\n'
            f'[[sources]]\nname = "prom"\nkind = "prometheus"\nurl = "{prom.url}"\npoll_interval = 1\n'
            f'[[sources]]\nname = "prom-down"\nkind = "prometheus"\nurl = "{prom_down.url}"\npoll_interval = 1\n'
            f'[[sources]]\nname = "am"\nkind = "alertmanager"\nurl = "{am.url}"\npoll_interval = 1\n'
            f'[[sources]]\nname = "argo"\nkind = "argo-rollouts"\nkubeconfig = "{kubeconfig}"\n')
        yield config


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MONOTUI_")}
    return {**clean, "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"), "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
            "HOME": str(tmp_path / "home")}


# ---- the TUI ---------------------------------------------------------------------------------------------------


def test_every_panel_and_dialog_draws_hostile_text_inert(hostile_config: Path, env: dict[str, str]) -> None:
    with Terminal(["--config", str(hostile_config)], env, cwd=ROOT, size=(200, 60)) as term:
        # the table, the detail of the first row, the events panel, the banner's sources
        term.wait_for("cart-api", "svc-00000", "flag␛]0;PWN", timeout=90)

        def press(keys: str, *shown: str) -> None:
            """Type `keys` until one of `shown` is drawn once more (what the key brings up). Again after a few
            seconds: a key typed while the previous dialog was still closing went to that dialog."""
            before = {needle: term.text.count(needle) for needle in shown}
            for _ in range(10):
                term.type(keys)
                deadline = time.monotonic() + 6
                while time.monotonic() < deadline:
                    if any(term.text.count(needle) > before[needle] for needle in shown):
                        return
                    term._drain(0.1)
            raise AssertionError(f"{keys!r} did not bring up {shown}: {term.text[-2000:]}")

        def on_screen(needle: str, shown: bool, timeout: float = 90) -> bool:
            deadline = time.monotonic() + timeout
            while (needle in term.screen) != shown and time.monotonic() < deadline:
                term._drain(0.1)
            return (needle in term.screen) == shown

        def dialog(key: str, title: str) -> None:
            """Open a dialog with `key`, then close it with Escape, each waited for on the screen as it is now: a
            key typed again before a slow dialog was drawn opened a second one, which then took the next keys."""
            assert on_screen(title, False), f"{title!r} is on the screen before {key!r}: {term.screen}"
            term.type(key)
            assert on_screen(title, True), f"{key!r} did not bring up {title!r}: {term.screen}"
            for _ in range(10):  # Escape again if it came while the dialog was still being composed
                term.type(ESCAPE)
                if on_screen(title, False, timeout=10):
                    return
            raise AssertionError(f"Escape did not close {title!r}: {term.screen}")

        # the service with every source's text first (its suspect flag: it needs a human first): its detail panel
        # (flags, alerts, health, revisions), then its dialogs: pause, kill switch, silence, act on suspect, help
        term.wait_for("SUSPECT FLAG", timeout=60)
        for key, title in (("p", "in PRODUCTION?"), ("x", "Turn flag"), ("S", "Silence the alerts"),
                           ("s", "in PRODUCTION?"), ("?", "monotui keys")):
            dialog(key, title)
        services = [*hostile_world().services, "svc-00000", "svc-00001"]

        # every row's detail, one after the other (what each shows is checked below: every hostile field drawn);
        # on a loaded machine a key can land before the previous row's detail was drawn: walk again from the top
        # until every field was drawn, a few times at most
        for _ in range(4):
            for _ in range(len(services) - 1):
                press("j", *services)  # the table draws the selection anew, the detail panel with it
            if not [tag for tag in SHOWN if f"{tag}␛]0;PWN" not in term._raw.decode("utf-8", "replace")]:
                break
            press("g", *services)
        term.type("q")
        assert term.wait_exit() == 0
        raw = term._raw
    assert_inert(raw, "the TUI's terminal")
    text = raw.decode("utf-8", "replace")
    missing = [tag for tag in SHOWN if f"{tag}␛]0;PWN" not in text]
    assert not missing, f"{missing}: the hostile fields never reached the screen (the test would be blind)"


# ---- the CLI and the audit log ------------------------------------------------------------------------------


def test_the_cli_and_the_audit_log_write_hostile_text_inert(hostile_config: Path, env: dict[str, str],
                                                            tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "monotui", "--config", str(hostile_config), *args],
                              capture_output=True, env=env, cwd=ROOT, timeout=120, stdin=subprocess.DEVNULL)

    for args in (["status", "--json"], ["flags", "--json"], ["status"], ["flags"]):
        out = run(*args)
        assert_inert(out.stdout, f"`monotui {' '.join(args)}` stdout")
        assert_inert(out.stderr, f"`monotui {' '.join(args)}` stderr")
        assert b"PWN" in out.stdout, f"{args}: the hostile text is not there at all (test blind)"
        if "--json" in args:
            data = json.loads(out.stdout)
            strings: list[str] = []

            def walk(value: Any, strings: list[str] = strings) -> None:
                if isinstance(value, str):
                    strings.append(value)
                elif isinstance(value, dict):
                    for k, v in value.items():
                        walk(k)
                        walk(v)
                elif isinstance(value, list):
                    for v in value:
                        walk(v)

            walk(data)
            assert any("PWN" in s for s in strings)
            for s in strings:  # `jq -r` prints them: they must be inert too
                assert_inert(s.encode(), f"`monotui {' '.join(args)}` JSON value {s[:40]!r}")

    off = run("flag", "off", FLAG, "--yes", "--reason", bad("reason"))
    assert_inert(off.stdout, "`monotui flag off` stdout")
    assert_inert(off.stderr, "`monotui flag off` stderr")
    audit = (tmp_path / "audit.log").read_bytes()
    assert b"PWN" in audit
    assert_inert(audit, "the audit log")
