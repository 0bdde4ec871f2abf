"""`monotui demo --unleash`: a real Unleash holds the demo's flags, kept in step with the simulated production.

`seed()` creates the world's flags in Unleash (tag, strategies, production state). Then, about once a second, a
background thread replays the world's own flag changes onto Unleash (made with the admin token, so Unleash names
the actor `admin`), and reads each flag's production state back from Unleash into the world, so a flag turned off in
Unleash — by monotui's kill switch or anyone else — mends its service as it does on the simulator.
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import quote

import httpx

from monotui.simulator.flags import PRODUCTION, FlagStore, SimFlag

log = logging.getLogger(__name__)
REPLAYED = {"feature-environment-enabled", "feature-environment-disabled", "feature-strategy-add",
            "feature-strategy-update"}


class UnleashMirror:
    def __init__(self, flags: FlagStore, url: str, token: str, interval: float = 1.0) -> None:
        self.flags = flags
        self.interval = interval
        self.client = httpx.Client(base_url=url.rstrip("/") + "/api/admin", headers={"Authorization": token},
                                   timeout=30)
        self._replayed = 0  # the world's last flag event id replayed onto Unleash
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- Unleash ----

    def _send(self, method: str, path: str, json: Any = None, ok: tuple[int, ...] = ()) -> httpx.Response:
        response = self.client.request(method, path, json=json)
        if response.status_code >= 400 and response.status_code not in ok:
            response.raise_for_status()
        return response

    def _feature(self, flag: SimFlag) -> str:
        return f"/projects/{quote(flag.project, safe='')}/features/{quote(flag.name, safe='')}"

    def _set_enabled(self, flag: SimFlag, enabled: bool) -> None:
        self._send("POST", f"{self._feature(flag)}/environments/{PRODUCTION}/{'on' if enabled else 'off'}")

    def _strategies_path(self, flag: SimFlag) -> str:
        return f"{self._feature(flag)}/environments/{PRODUCTION}/strategies"

    def _copy_strategies(self, flag: SimFlag) -> None:
        """Make Unleash's production strategies of `flag` those of the world (by name and parameters)."""
        theirs = self._send("GET", self._strategies_path(flag)).json()
        for strategy in flag.strategies[PRODUCTION]:
            body = {"name": strategy.name, "parameters": strategy.parameters, "constraints": strategy.constraints}
            same = next((s for s in theirs if s["name"] == strategy.name), None)
            if same is None:
                self._send("POST", self._strategies_path(flag), body)
            elif same["parameters"] != strategy.parameters:
                self._send("PUT", f"{self._strategies_path(flag)}/{same['id']}", body)

    def seed(self) -> None:
        """Create every flag of the world in Unleash, as it is in the world (a flag already there is updated)."""
        self._send("POST", "/tag-types", {"name": "service", "description": "owning service"}, ok=(409,))
        with self.flags.lock:
            flags = list(self.flags.flags.values())
            self._replayed = max((e["id"] for e in self.flags.events), default=0)
        for flag in flags:
            self._send("POST", f"/projects/{quote(flag.project, safe='')}/features",
                       {"name": flag.name, "type": flag.type, "description": flag.description}, ok=(409,))
            for type_, value in flag.tags:
                self._send("POST", f"/features/{quote(flag.name, safe='')}/tags", {"type": type_, "value": value},
                           ok=(409,))
            self._copy_strategies(flag)
            self._set_enabled(flag, flag.enabled[PRODUCTION])

    # ---- keeping in step ----

    def replay(self) -> None:
        """The world's flag changes since the last call, made on Unleash too."""
        with self.flags.lock:
            news = [e for e in self.flags.events if e["id"] > self._replayed]
        for event in news:
            self._replayed = event["id"]
            if event["type"] not in REPLAYED or event.get("environment") != PRODUCTION:
                continue
            flag = self.flags.flags.get((event["project"], event["featureName"]))
            if flag is None:
                continue
            if event["type"].startswith("feature-environment-"):
                self._set_enabled(flag, event["type"].endswith("-enabled"))
            else:
                self._copy_strategies(flag)

    def pull(self) -> None:
        """Each flag's production state as Unleash has it, into the world (without events: it is not news)."""
        with self.flags.lock:
            flags = list(self.flags.flags.values())
        for flag in flags:
            feature = self._send("GET", self._feature(flag)).json()
            env = next((e for e in feature.get("environments", []) if e.get("name") == PRODUCTION), None)
            if env is None:
                continue
            rollouts = {s["name"]: s.get("parameters", {}).get("rollout") for s in env.get("strategies", [])}
            with self.flags.lock:
                if self.flags.events and self.flags.events[-1]["id"] > self._replayed:
                    return  # the world changed meanwhile: replay that first, pull next time
                flag.enabled[PRODUCTION] = bool(env.get("enabled"))
                for strategy in flag.strategies[PRODUCTION]:
                    rollout = rollouts.get(strategy.name)
                    if rollout is not None and "rollout" in strategy.parameters:
                        strategy.parameters["rollout"] = str(rollout)

    def sync(self) -> None:
        self.replay()
        self.pull()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sync()
            except httpx.HTTPError as e:  # Unleash busy or restarting: try again next time
                log.warning("keeping Unleash in step with the demo: %s", type(e).__name__)

    def start(self) -> UnleashMirror:
        self.seed()
        self._thread = threading.Thread(target=self._run, name="unleash-mirror", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=35)
        self.client.close()

    def __enter__(self) -> UnleashMirror:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
