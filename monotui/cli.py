"""The `monotui` command: the TUI, `demo`, `simulate`, `status`, and one-shot actions.

Exit status: 0 ok; 1 an action failed or a source is unreachable; 2 bad configuration or usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monotui import __version__
from monotui.config import (
    ConfigError,
    Settings,
    build_settings,
    load_settings,
    read_toml,
    resolve_config_path,
)
from monotui.engine.actions import ROLLOUT_ACTIONS, action_spec
from monotui.models import ActionKind

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEMO_PROTECTED = ["payments-api"]


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH", help="config file (default: $MONOTUI_CONFIG, then the user "
                        "config dir's monotui/config.toml)")
    parser.add_argument("--read-only", action="store_true", default=None,
                        help="offer no mutating action and send no mutating request")


def _sim_options(parser: argparse.ArgumentParser, deploy_interval: float) -> None:
    parser.add_argument("--services", type=int, default=12, help="number of services (default 12)")
    parser.add_argument("--seed", type=int, default=1, help="random seed: the same seed, the same production")
    parser.add_argument("--deploy-interval", type=float, default=deploy_interval,
                        help=f"mean seconds between new deploys (default {deploy_interval:g}; 0 = none)")
    parser.add_argument("--bad-probability", type=float, default=0.2,
                        help="chance that a release is bad (default 0.2)")
    parser.add_argument("--auto-rollback", action="store_true", help="roll bad releases back automatically")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="monotui", description="The terminal control room for production.")
    parser.add_argument("--version", action="version", version=f"monotui {__version__}")
    _common(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="open monotui on the embedded simulated production")
    _common(demo)
    demo.add_argument("--prometheus", action="store_true",
                      help="also start a real Prometheus scraping the simulator (the health source) and an "
                           "Alertmanager receiving its alerts")
    _sim_options(demo, deploy_interval=5.0)

    simulate = sub.add_parser("simulate", help="run the simulated production alone (an HTTP server)")
    simulate.add_argument("--port", type=int, default=8700, help="port on 127.0.0.1 (default 8700)")
    simulate.add_argument("--token-env", metavar="VAR",
                          help="require the bearer token held in this environment variable")
    _sim_options(simulate, deploy_interval=5.0)

    standin = sub.add_parser("kube-standin", help="serve Argo Rollouts objects on a loopback Kubernetes API "
                                                 "stand-in, to try monotui without a cluster")
    standin.add_argument("--port", type=int, default=8701, help="port on 127.0.0.1 (default 8701)")
    standin.add_argument("--fixtures", metavar="DIR", help="folder of Kubernetes YAML (e.g. the Argo Rollouts "
                         "fixtures in shared/fixtures/argo-rollouts)")
    standin.add_argument("--synthetic", type=int, default=0, metavar="N", help="also serve N generated rollouts")
    standin.add_argument("--namespaces", type=int, default=10, help="spread generated rollouts over this many")
    standin.add_argument("--kubeconfig-out", metavar="PATH", default="standin.kubeconfig",
                         help="write a kubeconfig pointing at the stand-in here (default ./standin.kubeconfig)")

    status = sub.add_parser("status", help="print every rollout once and exit (1 if a source is unreachable)")
    _common(status)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--source", help="only this source")

    for spec in ROLLOUT_ACTIONS:
        act = sub.add_parser(spec.kind.value, help=f"{spec.description.rstrip('.')}")
        _common(act)
        act.add_argument("service", help="service (or rollout id)")
        act.add_argument("--source", help="the source, when several have this service")
        act.add_argument("--reason", help="why: goes to the audit log")
        act.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        if spec.kind is ActionKind.ROLLBACK:
            act.add_argument("--revision", type=int, help="target revision (default: the previous good one)")
    return parser


def _settings(args: argparse.Namespace, **extra: Any) -> Settings:
    overrides: dict[str, Any] = dict(extra)
    if args.read_only:
        overrides["read_only"] = True
    return load_settings(args.config, **overrides)


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"monotui: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            return run_demo(args)
        if args.command == "simulate":
            return run_simulate(args)
        if args.command == "kube-standin":
            return run_kube_standin(args)
        if args.command == "status":
            return asyncio.run(run_status(args))
        if args.command in {a.kind.value for a in ROLLOUT_ACTIONS}:
            return asyncio.run(run_action(args))
        return run_tui(args)
    except ConfigError as e:
        return _fail(str(e))
    except KeyboardInterrupt:
        return 130


# ---- the TUI ------------------------------------------------------------------------------------------------


def _log_to_state_dir(settings: Settings) -> Path:
    # The terminal belongs to the TUI; warnings go to a file next to the audit log. No request headers are logged.
    path = settings.audit_log.expanduser().parent / "monotui.log"
    logger = logging.getLogger("monotui")
    logger.setLevel(logging.WARNING)
    logger.propagate = False  # never onto the terminal the TUI draws on
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    return path


def _open_tui(settings: Settings) -> int:
    from monotui.engine.core import Engine
    from monotui.ui.app import MonotuiApp

    log_file = _log_to_state_dir(settings)
    app = MonotuiApp(Engine(settings))
    app.run()
    if app.return_code:
        return _fail(f"stopped by an unexpected error ({app.crash or 'see the log'}); the details are in "
                     f"{log_file}", EXIT_FAILED)
    return EXIT_OK


def run_tui(args: argparse.Namespace) -> int:
    path, named = resolve_config_path(args.config)
    if not named and not path.exists():
        return _fail(f"no configuration: {path} does not exist. Try `monotui demo`, or copy config.example.toml "
                     "there (or pass --config PATH).")
    settings = _settings(args)
    if not settings.sources:
        return _fail(f"config error in {path}: sources: no source configured")
    return _open_tui(settings)


def _world(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from monotui.simulator.world import SimConfig, World

    if args.services < 1:
        raise ConfigError(None, "--services", "must be at least 1")
    return World(SimConfig(services=args.services, seed=args.seed, deploy_interval=args.deploy_interval,
                           bad_probability=args.bad_probability, auto_rollback=args.auto_rollback))


def demo_settings(args: argparse.Namespace, url: str, prometheus_url: str | None = None,
                  alertmanager_url: str | None = None) -> Settings:
    """The user's config (actor, audit log, theme…) if any, with the simulator as the only source."""
    path, named = resolve_config_path(args.config)
    data = read_toml(path) if named or path.exists() else {}
    sources: list[dict[str, Any]] = [{"name": "demo", "kind": "http", "url": url, "poll_interval": 1.0}]
    if prometheus_url:
        sources.append({"name": "prometheus", "kind": "prometheus", "url": prometheus_url, "poll_interval": 2.0,
                        "window": "30s"})
    if alertmanager_url:
        sources.append({"name": "alertmanager", "kind": "alertmanager", "url": alertmanager_url,
                        "poll_interval": 2.0})
    data = {**data, "sources": sources}
    data.setdefault("protected_services", DEMO_PROTECTED)
    overrides = {"read_only": True} if args.read_only else {}
    return build_settings(data, path if (named or path.exists()) else None, **overrides)


def run_demo(args: argparse.Namespace) -> int:
    from monotui.simulator.server import SimulatorServer

    prometheus_url = alertmanager_url = None
    with ExitStack() as stack:
        sim = stack.enter_context(SimulatorServer(_world(args)))
        if getattr(args, "prometheus", False):
            from urllib.parse import urlparse

            from monotui.simulator import prometheus as prom

            if prom.find_prometheus() is None:
                return _fail(f"--prometheus: prometheus is not installed: {prom.INSTALL_HINT}")
            address = None
            if prom.find_alertmanager() is not None:
                print("starting Alertmanager…", file=sys.stderr)
                alertmanager = stack.enter_context(prom.AlertmanagerServer())
                alertmanager_url, address = alertmanager.url, alertmanager.address
            else:
                print("Alertmanager not found (apt-get install prometheus-alertmanager): no alerts", file=sys.stderr)
            print("starting Prometheus…", file=sys.stderr)
            prometheus_url = stack.enter_context(prom.PrometheusServer(
                [urlparse(sim.url).netloc], alertmanager=address, rules=prom.DEMO_RULES)).url
        return _open_tui(demo_settings(args, sim.url, prometheus_url, alertmanager_url))


def run_simulate(args: argparse.Namespace) -> int:
    from monotui.simulator.server import serve_forever

    token = None
    if args.token_env:
        token = os.environ.get(args.token_env)
        if not token:
            return _fail(f"--token-env: environment variable {args.token_env} is empty or unset")
    print(f"monotui simulator: http://127.0.0.1:{args.port}  ({args.services} services, seed {args.seed})",
          file=sys.stderr)
    serve_forever(_world(args), args.port, token=token)
    return EXIT_OK


def run_kube_standin(args: argparse.Namespace) -> int:
    import time

    from monotui.simulator.kube_api import KubeStandin, load_fixtures, synthetic

    objects = []
    if args.fixtures:
        folder = Path(args.fixtures)
        if not folder.is_dir():
            return _fail(f"--fixtures: {folder} is not a folder")
        objects += load_fixtures(folder)
    if args.synthetic:
        objects += synthetic(args.synthetic, max(1, args.namespaces))
    if not objects:
        return _fail("nothing to serve: pass --fixtures DIR and/or --synthetic N")
    with KubeStandin(objects, port=args.port) as kube:
        kubeconfig = kube.kubeconfig(Path(args.kubeconfig_out).resolve())
        rollouts = sum(1 for o in objects if o.get("kind") == "Rollout")
        print(f"Kubernetes API stand-in on {kube.url}: {rollouts} rollouts. Kubeconfig: {kubeconfig}\n"
              "Try it with a config like:\n\n"
              f'  [[sources]]\n  name = "standin"\n  kind = "argo-rollouts"\n  kubeconfig = "{kubeconfig}"\n\n'
              "Ctrl+C stops it.", file=sys.stderr)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return EXIT_OK


# ---- status -------------------------------------------------------------------------------------------------


async def run_status(args: argparse.Namespace) -> int:
    from monotui.engine.core import Engine

    settings = _settings(args)
    if args.source:
        try:
            settings.source(args.source)
        except KeyError:
            return _fail(f"--source: no source named {args.source!r}")
        settings = settings.model_copy(update={"sources": [settings.source(args.source)]})
    if not settings.sources:
        return _fail("no source configured (see config.example.toml, or try `monotui demo`)")
    engine = Engine(settings)
    try:
        updates = await engine.refresh_once()
    finally:
        await engine.aclose()
    now = datetime.now(UTC)
    if args.json:
        print(json.dumps(status_json(engine, now), indent=2, ensure_ascii=True))
    else:
        print_status(engine, now)
    return EXIT_OK if all(u.ok for u in updates) else EXIT_FAILED


def status_json(engine: Any, now: datetime) -> dict[str, Any]:
    state = engine.state
    sources = []
    for name, data in state.sources.items():
        s = data.status
        sources.append({"name": name, "state": s.state, "error": s.error, "read_only": s.read_only})
    rollouts = []
    for view in state.views(now):
        item = view.rollout.model_dump(mode="json")
        item["source"] = view.source
        item["attention"] = view.attention.name.lower()
        item["health"] = view.health.model_dump(mode="json", exclude={"series"}) if view.health else None
        rollouts.append(item)
    return {"generated_at": now.isoformat(), "sources": sources, "rollouts": rollouts}


def print_status(engine: Any, now: datetime) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from monotui.render.rollouts import COLUMNS, row_cells
    from monotui.render.text import plain

    # piped output keeps whole lines (a terminal gets its own width)
    width = None if sys.stdout.isatty() else 200
    console = Console(highlight=False, no_color="NO_COLOR" in os.environ or None, width=width)
    for name, data in engine.state.sources.items():
        line = Text()
        line.append_text(plain(name, style="bold"))
        line.append(": ")
        if data.status.state == "ok":
            line.append("ok", style="green")
        else:
            line.append(f"{data.status.state}: ", style="bold red")
            line.append_text(plain(data.status.error or "", limit=300))
        console.print(line)
    table = Table(box=None, header_style="bold", pad_edge=False)
    multi = len(engine.state.sources) > 1
    if multi:
        table.add_column("Source")
    for column in COLUMNS:
        table.add_column(column.label, no_wrap=True)
    for view in engine.state.views(now):
        cells = row_cells(view, now, engine.settings.thresholds)
        table.add_row(*((plain(view.source),) if multi else ()), *cells)
    console.print(table)


# ---- one-shot actions ---------------------------------------------------------------------------------------


async def run_action(args: argparse.Namespace) -> int:
    from monotui.engine.actions import ActionPlan
    from monotui.engine.core import Engine
    from monotui.render.text import clean

    kind = ActionKind(args.command)
    settings = _settings(args)
    if not settings.sources:
        return _fail("no source configured (see config.example.toml)")
    engine = Engine(settings)
    try:
        await engine.refresh_once()
        matches = engine.find(args.service, args.source)
        if not matches:
            return _fail(f"no rollout for service {clean(args.service)!r}"
                         + (f" in source {args.source!r}" if args.source else ""), EXIT_FAILED)
        if len(matches) > 1:
            names = ", ".join(sorted(source for source, _ in matches))
            return _fail(f"{clean(args.service)!r} is in several sources ({names}): pass --source")
        source, rollout = matches[0]
        plan: ActionPlan = engine.plan(source, rollout, kind, getattr(args, "revision", None))
        print(clean(plan.summary(), 500))
        print(f"  {clean(plan.effect, 300)}")
        if not args.yes and not engine.read_only(source):
            if not sys.stdin.isatty():
                outcome = await engine.refuse(plan, "confirmation needed: stdin is not a terminal (pass --yes)",
                                              args.reason)
                return _fail(outcome.error or "refused")
            expected = rollout.service if plan.protected else "yes"
            answer = input(f"Type {expected!r} to {action_spec(kind).verb} {clean(rollout.service)}: ")
            if answer.strip() != expected:
                print("Cancelled. Nothing was sent.")
                return EXIT_FAILED
        outcome = await engine.execute(plan, args.reason)
        print(clean(outcome.message(), 500), file=sys.stdout if outcome.ok else sys.stderr)
        return EXIT_OK if outcome.ok else EXIT_FAILED
    finally:
        await engine.aclose()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
