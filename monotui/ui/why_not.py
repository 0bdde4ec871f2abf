"""Why a key cannot act right now: the one-line notice shown instead of silence.

Whether an action applies to a rollout is the engine's `ActionSpec.why_not` (the CLI says the same); this adds what
only the screen knows: read-only mode, the selected row, the suspect, the alert sources.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monotui.engine.actions import action_spec
from monotui.models import ActionKind
from monotui.text import clean
from monotui.ui import kill_switch

if TYPE_CHECKING:
    from monotui.ui.app import MonotuiApp
    from monotui.ui.keymap import Command

READ_ONLY = "read-only: actions are off"

def why_not(app: MonotuiApp, command: Command) -> str | None:
    """Why `command` cannot act now on what the app shows, in one line; None when it can."""
    if command.mutating and app.settings.read_only:
        return READ_ONLY
    view = app.selected_view()
    if command.id == "rollback_suspect":
        return None if app._suspect() else "no suspect yet: no service breached its thresholds after a change"
    if command.action == "flag":
        return kill_switch.why_not(app, view, command.parameter == "on")
    if command.id in ("silence", "expire_silence"):
        if not app._alert_sources():
            return "no alerts: no Alertmanager source is configured"
        if view is None:
            return "select a rollout first"
        alerts = app._alerts_of(view.rollout.service)
        service = clean(view.rollout.service, 60)
        if not alerts:
            return f"no firing alerts for {service}"
        return None if any(a.silenced for a in alerts) or command.id == "silence" else f"{service} has no silences"
    if command.action != "rollout" or command.parameter is None:
        return None
    kind = ActionKind(command.parameter)
    spec = action_spec(kind)
    if view is None:
        return "select a rollout first"
    if view.read_only:
        return f"read-only: source {clean(view.source, 40)} takes no actions"
    if not app.engine.can(view.source, kind):
        return f"{spec.verb}: source {clean(view.source, 40)} has no such action (Argo Rollouts sources only)"
    reason = spec.why_not(view.rollout)
    return clean(reason, 300) if reason else None
