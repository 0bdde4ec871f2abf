"""A rollout's revisions, newest first, and what changed between two of them.

The models are the wire format of the deploy API's `GET /v1/rollouts/{id}/revisions` (docs/deploy-api.md) and what
the Argo Rollouts provider builds from a Rollout's ReplicaSets. `diff` compares two revisions line by line: images,
environment variables, args, resources, pod-template labels and annotations (Argo Rollouts), or the version,
commit and `changes` the deploy API gives. The value of a key that looks secret is never kept: a revision holds a
digest of it, so a diff can say it changed without ever printing it.

No rich, no textual: the engine, the CLI and the TUI all use it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from msgspec import Meta

from monotui.models import AwareDatetime, _Model


class Ending(StrEnum):
    """How a revision's time ended (or that it is still live)."""

    LIVE = "live"  # serving now: the stable revision, or a rollout in progress
    PROMOTED = "promoted"  # fully promoted; replaced later by a newer promoted revision
    ABORTED = "aborted"
    ROLLED_BACK = "rolled_back"  # a person rolled it back
    AUTO_ROLLED_BACK = "auto_rolled_back"  # the platform rolled it back (a failed analysis)
    SUPERSEDED = "superseded"  # a newer deploy replaced it before it was promoted
    UNKNOWN = "unknown"  # the source does not keep how it ended


ENDING_WORDS = {
    Ending.LIVE: "live", Ending.PROMOTED: "promoted", Ending.ABORTED: "aborted", Ending.ROLLED_BACK: "rolled back",
    Ending.AUTO_ROLLED_BACK: "auto-rolled back", Ending.SUPERSEDED: "superseded", Ending.UNKNOWN: "ended (unknown how)",
}


class RevisionChanges(_Model, frozen=True, kw_only=True):
    """What went into a revision since the one before it (deploy API, optional)."""

    commit_range: Annotated[str, Meta(description="the commits since the previous revision, e.g. 'a1b2c3d..e4f5a6b'"
                                      )] = ""
    commits: Annotated[int, Meta(ge=0, description="how many commits that range holds")] | None = None
    config_keys: Annotated[list[str], Meta(description="the names of the configuration keys whose values changed "
                                                       "(names only, never values)")] = []


class Revision(_Model, frozen=True, kw_only=True):
    revision: int
    version: str = ""
    images: list[str] = []
    commit: str = ""
    commit_message: str = ""
    author: str = ""
    live_from: Annotated[AwareDatetime | None, Meta(description="when it started taking traffic")] = None
    live_until: Annotated[AwareDatetime | None, Meta(description="when it stopped; null while live")] = None
    ended: Ending = Ending.UNKNOWN
    end_reason: Annotated[str, Meta(description="why it ended as it did, e.g. the failed analysis")] = ""
    ended_by: Annotated[str, Meta(description="who ended it (a person, or the platform)")] = ""
    stable: Annotated[bool, Meta(description="the revision serving the rest of traffic")] = False
    current: Annotated[bool, Meta(description="the revision the rollout is at (being rolled out, or running)")] = False
    changes: RevisionChanges | None = None
    template: Annotated[dict[str, str], Meta(
        description="what the revision runs, one line per setting (Argo Rollouts: its pod template: image, env, "
        "args, resources, labels, annotations); a secret-looking value is a digest, never the value")] = {}
    pod_template_hash: str = ""


class RevisionList(_Model, frozen=True, kw_only=True):
    rollout_id: str
    revisions: Annotated[list[Revision], Meta(description="newest first")]


# ---- secrets ---------------------------------------------------------------------------------------------------

_SECRET_NAME = re.compile(r"(pass(word|wd)?|secret|token|api[_-]?key|private|credential|auth|cert|dsn|"
                          r"(^|[_.-])key($|[_.-]))", re.IGNORECASE)
SECRET_MARK = "secret:"


def looks_secret(name: str) -> bool:
    """Whether a key's name says its value is a secret (DB_PASSWORD, API_KEY, auth.token…)."""
    return bool(_SECRET_NAME.search(name))


def sealed(value: str) -> str:
    """A secret's stand-in: a short digest that tells "changed" from "same" and reveals nothing."""
    return SECRET_MARK + hashlib.sha256(value.encode()).hexdigest()[:12]


def _resources(prefix: str, resources: object, out: dict[str, str]) -> None:
    if not isinstance(resources, dict):
        return
    for kind in ("requests", "limits"):
        values = resources.get(kind)
        if isinstance(values, dict):
            for name, value in sorted(values.items()):
                out[f"{prefix}.resources.{kind}.{name}"] = str(value)


def template_lines(template: object) -> dict[str, str]:
    """A Kubernetes pod template as flat lines (`image[app]`, `env[app].LOG_LEVEL`…), secret values sealed and the
    `rollouts-pod-template-hash` label left out (it differs in every revision and says nothing)."""
    out: dict[str, str] = {}
    if not isinstance(template, dict):
        return out
    meta = template.get("metadata") if isinstance(template.get("metadata"), dict) else {}
    spec = template.get("spec") if isinstance(template.get("spec"), dict) else {}
    assert isinstance(meta, dict) and isinstance(spec, dict)
    for what in ("labels", "annotations"):
        values = meta.get(what)
        if isinstance(values, dict):
            for name, value in sorted(values.items()):
                if name != "rollouts-pod-template-hash":
                    shown = str(value)
                    out[f"{what[:-1]}.{name}"] = sealed(shown) if looks_secret(str(name)) else shown
    for holder in ("initContainers", "containers"):
        containers = spec.get(holder)
        if not isinstance(containers, list):
            continue
        for c in containers:
            if not isinstance(c, dict):
                continue
            name = str(c.get("name") or "?")
            prefix = f"init[{name}]" if holder == "initContainers" else f"[{name}]"
            out[f"image{prefix}"] = str(c.get("image") or "")
            for field in ("command", "args"):
                if isinstance(c.get(field), list):
                    out[f"{field}{prefix}"] = " ".join(str(a) for a in c[field])
            for env in c.get("env") or []:
                if not isinstance(env, dict) or not env.get("name"):
                    continue
                key = f"env{prefix}.{env['name']}"
                if "value" in env:
                    value = str(env.get("value"))
                    out[key] = sealed(value) if looks_secret(str(env["name"])) else value
                elif isinstance(env.get("valueFrom"), dict):  # a reference, never a value
                    ref = env["valueFrom"]
                    kind = next(iter(ref), "valueFrom")
                    target = ref.get(kind) if isinstance(ref.get(kind), dict) else {}
                    assert isinstance(target, dict)
                    out[key] = f"from {kind} {target.get('name', '')}/{target.get('key', '')}".rstrip("/ ")
            _resources(f"container{prefix}", c.get("resources"), out)
    return out


# ---- the diff ----------------------------------------------------------------------------------------------------


def fingerprint(revision: Revision) -> str:
    """What a revision runs, as one short digest (its version, images, commit and template lines): a rollback pinned
    to a revision is refused when the revision no longer runs what its confirmation showed."""
    lines = "\n".join(f"{k}={v}" for k, v in sorted(facts(revision).items()))
    return hashlib.sha256(lines.encode("utf-8", "backslashreplace")).hexdigest()[:24]


def facts(revision: Revision) -> dict[str, str]:
    """A revision as the lines a diff compares."""
    out: dict[str, str] = {}
    if revision.version:
        out["version"] = revision.version
    if not revision.template:
        for i, image in enumerate(revision.images):
            out["image" if i == 0 else f"image.{i}"] = image
    if revision.commit:
        out["commit"] = revision.commit
    out.update(revision.template)
    return out


@dataclass(frozen=True)
class DiffLine:
    sign: str  # "-", "+", "~" (a secret that changed: its value is never shown), " " (context)
    key: str
    value: str

    def text(self) -> str:
        return f"{self.sign} {self.key}: {self.value}" if self.value else f"{self.sign} {self.key}"


@dataclass(frozen=True)
class Diff:
    old: Revision
    new: Revision
    lines: tuple[DiffLine, ...]

    @property
    def header(self) -> tuple[str, str]:
        return (f"--- r{self.old.revision} ({self.old.version or '?'})",
                f"+++ r{self.new.revision} ({self.new.version or '?'})")

    @property
    def changed(self) -> bool:
        return any(line.sign != " " for line in self.lines)

    def names_image_change(self) -> bool:
        return any(line.key.startswith("image") and line.sign in "+-" for line in self.lines)


def _secret(value: str) -> bool:
    return value.startswith(SECRET_MARK)


def diff(old: Revision, new: Revision, listed: Sequence[Revision] = ()) -> Diff:
    """What changed from `old` to `new`, key by key in a stable order: removed (-), added (+), a secret that changed
    (~, never its value). The deploy API's `changes` of the newer revision (its commit range and the config keys it
    changed) come last: for revisions further apart, those of every revision after the older one up to the newer one
    (from `listed`, the rollout's revisions), which a diff in either direction names alike."""
    a, b = facts(old), facts(new)
    lines: list[DiffLine] = []
    for key in sorted(a.keys() | b.keys(), key=_order):
        before, after = a.get(key), b.get(key)
        if before == after:
            continue
        if (before is not None and _secret(before)) or (after is not None and _secret(after)):
            state = ("added" if before is None else "removed" if after is None else "changed")
            lines.append(DiffLine("~", key, f"(secret value {state}; not shown)"))
            continue
        if before is not None:
            lines.append(DiffLine("-", key, before))
        if after is not None:
            lines.append(DiffLine("+", key, after))
    lines += _changes_between(old, new, listed)
    return Diff(old, new, tuple(lines))


def _changes_between(old: Revision, new: Revision, listed: Sequence[Revision]) -> list[DiffLine]:
    low, high = sorted((old.revision, new.revision))
    newer = new if new.revision >= old.revision else old
    chain = [r for r in listed if low < r.revision <= high] or [newer]
    if any(r.changes is None for r in chain):  # a step the server says nothing of: no range can be named
        return []
    lines: list[DiffLine] = []
    ranges = [r.changes.commit_range for r in sorted(chain, key=lambda r: r.revision) if r.changes is not None
              and r.changes.commit_range]
    counts = [r.changes.commits for r in chain if r.changes is not None]
    if ranges:
        first, last = ranges[0].split("..")[0], ranges[-1].split("..")[-1]
        total = None if any(n is None for n in counts) else sum(n for n in counts if n is not None)
        count = "" if total is None else f" ({total} commit{'' if total == 1 else 's'})"
        lines.append(DiffLine(" ", "commits", f"{first}..{last}{count}"))
    keys = sorted({k for r in chain if r.changes is not None for k in r.changes.config_keys})
    lines += [DiffLine("~", f"config.{key}", "changed (value not shown)") for key in keys]
    return lines


_ORDER = ("version", "image", "commit", "command", "args", "env", "container", "label", "annotation")


def _order(key: str) -> tuple[int, str]:
    for i, head in enumerate(_ORDER):
        if key.startswith(head):
            return i, key
    return len(_ORDER), key


def pick(revisions: list[Revision], number: int) -> Revision | None:
    return next((r for r in revisions if r.revision == number), None)


def previous(revisions: list[Revision], revision: Revision) -> Revision | None:
    """The revision just before `revision` (revisions are newest first)."""
    older = [r for r in revisions if r.revision < revision.revision]
    return max(older, key=lambda r: r.revision) if older else None


def default_pair(revisions: list[Revision]) -> tuple[Revision, Revision] | None:
    """What `monotui diff SERVICE` compares with no revision given: the stable revision (old) against the current
    one (new); when they are the same, the one before it against it."""
    current = next((r for r in revisions if r.current), revisions[0] if revisions else None)
    if current is None:
        return None
    stable = next((r for r in revisions if r.stable), None)
    if stable is None or stable.revision == current.revision:
        stable = previous(revisions, current)
    return (stable, current) if stable is not None else None
