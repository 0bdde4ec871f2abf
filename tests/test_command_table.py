"""The command table: each command's `why_not(context)` is the one answer to "can it act now, and if not why" —
what the key binding, the footer, the palette and the notice of a key that cannot act all use. It is a function of
what the screen shows, testable without the app; and the UI's modules import one another without a circle."""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from monotui.action_kinds import ActionKind
from monotui.engine.state import RolloutView
from monotui.models import Alert, Phase, Strategy, replace
from monotui.ui.commands import ACTS, COMMANDS, READ_ONLY, SELECT_FIRST, Answer, Command, command, for_action
from monotui.ui.suspects import RowSuspect

from .conftest import make_world

PRODUCT = Path(__file__).resolve().parent.parent / "monotui"


@dataclass
class FakeState:
    alerts: list[Alert] = field(default_factory=list)

    def all_alerts(self) -> list[Alert]:
        return self.alerts

    def flags_of(self, service: str) -> list[Any]:
        return []


@dataclass
class FakeEngine:
    """What the table asks of the engine, answered from fields."""

    kinds: set[ActionKind] = field(default_factory=lambda: set(ActionKind))
    resend: bool = False
    alert_sources_: list[str] = field(default_factory=list)
    state: FakeState = field(default_factory=FakeState)
    providers: dict[str, object] = field(default_factory=lambda: {"prod": object()})

    def can(self, source: str, kind: ActionKind) -> bool:
        return kind in self.kinds

    def can_flag(self, source: str) -> bool:
        return False

    def can_stream_logs(self, source: str) -> bool:
        return False

    def read_only(self, source: str) -> bool:
        return False

    def pending_resend(self, source: str, rollout_id: str, kind: ActionKind) -> bool:
        return self.resend

    def frozen(self, source: str, service: str | None, kind: ActionKind) -> str | None:
        return None

    def alert_sources(self) -> list[str]:
        return self.alert_sources_


@dataclass
class FakeSettings:
    read_only: bool = False


@dataclass
class FakeContext:
    engine: Any = field(default_factory=FakeEngine)
    settings: Any = field(default_factory=FakeSettings)
    view: RolloutView | None = None
    suspect_: RowSuspect | None = None
    free: bool = True

    def selected_view(self) -> RolloutView | None:
        return self.view

    def suspect(self) -> RowSuspect | None:
        return self.suspect_

    def keys_free(self) -> bool:
        return self.free


def a_view(phase: Phase, read_only: bool = False) -> RolloutView:
    rollout = make_world().deploy("cart-api", strategy=Strategy.CANARY)
    return RolloutView("prod", replace(rollout, phase=phase), None, None, False, read_only)  # type: ignore[arg-type]


def answer(binding_id: str, context: FakeContext) -> Answer:
    return command(binding_id).why_not(context)  # type: ignore[arg-type]


def test_read_only_mode_drops_every_mutating_command_and_says_so() -> None:
    context = FakeContext(settings=FakeSettings(read_only=True), view=a_view(Phase.PAUSED))
    for c in COMMANDS:
        got = c.why_not(context)  # type: ignore[arg-type]
        assert (got == Answer(False, READ_ONLY)) == c.mutating, c.id


def test_a_rollout_action_acts_dims_or_is_not_offered_with_its_reason() -> None:
    paused = a_view(Phase.PAUSED)
    assert answer("rollout.resume", FakeContext(view=paused)) == ACTS
    dimmed = answer("rollout.pause", FakeContext(view=paused))
    assert dimmed.act is None and dimmed.why == "pause needs a progressing rollout (cart-api is Paused)"
    assert answer("rollout.resume", FakeContext()) == Answer(None, SELECT_FIRST)
    no_source = FakeContext(engine=FakeEngine(kinds=set()))
    assert answer("rollout.resume", no_source) == Answer(False, SELECT_FIRST), "no source can: not offered"
    lacking = answer("rollout.retry", FakeContext(engine=FakeEngine(kinds={ActionKind.PAUSE}), view=paused))
    assert lacking.act is False and lacking.why is not None and "Argo Rollouts sources only" in lacking.why
    read_only_source = answer("rollout.resume", FakeContext(view=a_view(Phase.PAUSED, read_only=True)))
    assert read_only_source == Answer(False, "read-only: source prod takes no actions")
    # an earlier attempt's outcome is unknown: the key offers to send it again, though it would not apply now
    assert answer("rollout.pause", FakeContext(engine=FakeEngine(resend=True), view=paused)) == ACTS


def test_the_suspect_key_and_the_filter() -> None:
    assert answer("rollback_suspect", FakeContext()).act is None
    assert "no suspect yet" in (answer("rollback_suspect", FakeContext()).why or "")
    view = a_view(Phase.DEGRADED)
    assert answer("rollback_suspect", FakeContext(suspect_=RowSuspect(view, view.rollout.started_at))) == ACTS
    assert answer("filter", FakeContext()) == ACTS
    assert answer("filter", FakeContext(free=False)) == Answer(False), "typing in the filter, or a dialog: silent"


def test_silences_need_an_alert_source_a_row_and_its_alerts() -> None:
    assert answer("silence", FakeContext()) == Answer(False, "no alerts: no Alertmanager source is configured")
    with_source = FakeEngine(alert_sources_=["am"])
    assert answer("silence", FakeContext(engine=with_source)) == Answer(None, SELECT_FIRST)
    view = a_view(Phase.HEALTHY)
    no_alerts = answer("silence", FakeContext(engine=with_source, view=view))
    assert no_alerts == Answer(None, "no firing alerts for cart-api")


def test_every_textual_action_of_the_table_finds_its_command() -> None:
    for c in COMMANDS:
        assert for_action(c.action, (c.parameter,) if c.parameter else ()) is c
    assert for_action("command_palette", ()) is None


def test_a_command_is_one_entry() -> None:
    ids = [c.id for c in COMMANDS]
    assert len(ids) == len(set(ids))
    assert all(isinstance(c, Command) and c.label and c.description for c in COMMANDS)


def test_the_words_naming_the_kinds_that_can_act_come_from_the_backend_registry() -> None:
    """No product file writes the refusal's words: the registry's labels make them."""
    hits = [path for path in PRODUCT.rglob("*.py") if "Argo Rollouts sources only" in path.read_text(encoding="utf-8")
            and path.name != "registry.py"]
    assert hits == []


# ---- the UI's imports --------------------------------------------------------------------------------------------

def _imports(path: Path) -> set[str]:
    """Every monotui module `path` imports, type-only imports included (monotui imports absolutely)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: a relative import"
            base = node.module
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m.startswith("monotui.")}


def test_the_ui_has_no_import_circle_type_only_imports_included() -> None:
    modules = {}
    for path in (PRODUCT / "ui").rglob("*.py"):
        parts = path.relative_to(PRODUCT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    graph = {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    return [*trail, nxt]
                if nxt not in trail:
                    stack.append((nxt, [*trail, nxt]))
        return None

    circles = [c for name in sorted(graph) if (c := cycle_from(name))]
    assert circles == []


@pytest.mark.parametrize("module", ["monotui.ui.commands", "monotui.ui.flows.kill_switch",
                                    "monotui.ui.flows.rollout_action", "monotui.ui.flows.silence"])
def test_the_command_table_and_the_flows_do_not_load_the_app(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m in " \
           "('monotui.ui.app', 'monotui.ui.screens.rollouts')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
