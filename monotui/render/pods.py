"""A rollout's instances (Argo Rollouts: pods) as the plugin's `get rollout` tree shows them under each revision —
phase or status, ready containers, restarts, age, node — and the table's marker for a canary that is not all ready
or that restarts."""

from __future__ import annotations

from datetime import datetime
from itertools import groupby

from rich.text import Text

from monotui.formats import since
from monotui.models import Instance, Rollout
from monotui.render.text import join, plain

PODS_SHOWN = 6  # per revision; the rest counted
LABEL = "bold"


def canary_instances(rollout: Rollout) -> list[Instance]:
    """The instances of the revision being rolled out (none once it is the stable one)."""
    if rollout.stable is not None and rollout.stable.revision == rollout.revision:
        return []
    return [i for i in rollout.instances if i.revision == rollout.revision]


def _ready(instance: Instance) -> bool:
    return instance.containers > 0 and instance.ready >= instance.containers


def pod_marker(rollout: Rollout) -> Text:
    """` ⚠1/3↻4` after the status: of the canary's 3 instances 1 is ready, 4 restarts in all; nothing when every
    canary instance is ready and none restarted."""
    canary = canary_instances(rollout)
    ready = sum(1 for i in canary if _ready(i))
    restarts = sum(i.restarts for i in canary)
    if not canary or (ready == len(canary) and restarts == 0):
        return Text("")
    return Text(f" ⚠{ready}/{len(canary)}" + (f"↻{restarts}" if restarts else ""), style="bold red")


def _role(rollout: Rollout, revision: int | None) -> str:
    roles = []
    if revision == rollout.revision and (rollout.stable is None or rollout.stable.revision != revision):
        roles.append("canary")
    if rollout.stable is not None and revision == rollout.stable.revision:
        roles.append("stable")
    return ", ".join(roles)


def instance_line(instance: Instance, now: datetime) -> Text:
    status = instance.status or instance.phase
    bad = not _ready(instance) or instance.restarts > 0
    parts: list[Text | str] = [
        Text("·"), plain(instance.name, limit=63),
        plain(status, style="bold red" if bad and status != "Running" else ("green" if not bad else "yellow"),
              limit=30),
        Text(f"{instance.ready}/{instance.containers}", style="bold red" if not _ready(instance) else ""),
        Text(f"↻{instance.restarts}", style="bold red" if instance.restarts else "dim"),
    ]
    if instance.started_at is not None:
        parts.append(Text(since(instance.started_at, now), style="dim"))
    if instance.node:
        parts.append(plain(instance.node, style="dim", limit=40))
    return join(*parts)


def pod_lines(rollout: Rollout, now: datetime) -> list[Text]:
    """Per revision (newest first): `r3 canary · 1/3 ready · ↻4`, then its instances."""
    out: list[Text] = []
    for revision, group in groupby(rollout.instances, key=lambda i: i.revision):
        instances = list(group)
        ready = sum(1 for i in instances if _ready(i))
        restarts = sum(i.restarts for i in instances)
        role = _role(rollout, revision)
        head = join(Text(f"r{revision}" if revision is not None else "r?", style="bold"),
                    Text(role, style="cyan") if role else Text(""),
                    Text(f"{ready}/{len(instances)} ready", style="" if ready == len(instances) else "bold red"),
                    Text(f"↻{restarts}", style="bold red" if restarts else "dim"))
        out.append(join(Text(f"{'Pods' if not out else '':<9}", style=LABEL), head))
        for instance in instances[:PODS_SHOWN]:
            out.append(join(Text(" " * 9), instance_line(instance, now)))
        if len(instances) > PODS_SHOWN:
            out.append(Text(" " * 10 + f"… and {len(instances) - PODS_SHOWN} more", style="dim"))
    return out
