"""Setting up flag scenarios through the Unleash Admin API, the same calls against a real Unleash and against the
simulator (as an operator or a deploy pipeline would make them)."""

from __future__ import annotations

from typing import Any

import httpx

PROJECT = "default"


class UnleashAdmin:
    def __init__(self, url: str, token: str) -> None:
        self.client = httpx.Client(base_url=url, headers={"Authorization": token}, timeout=30)
        self.ensure_tag_type("service")

    def close(self) -> None:
        self.client.close()

    def _send(self, method: str, path: str, json: Any = None) -> httpx.Response:
        response = self.client.request(method, f"/api/admin{path}", json=json)
        response.raise_for_status()
        return response

    def ensure_tag_type(self, name: str) -> None:
        response = self.client.post("/api/admin/tag-types", json={"name": name, "description": "owning service"})
        assert response.status_code in (200, 201, 409), response.text

    def create_flag(self, name: str, *, service: str | None = None, rollout: int | None = None,
                    enabled: bool = False, environment: str = "production") -> None:
        self._send("POST", f"/projects/{PROJECT}/features", {"name": name, "type": "release"})
        if service:
            self._send("POST", f"/features/{name}/tags", {"type": "service", "value": service})
        if rollout is not None:
            self._send("POST", f"/projects/{PROJECT}/features/{name}/environments/{environment}/strategies",
                       {"name": "flexibleRollout",
                        "parameters": {"rollout": str(rollout), "stickiness": "default", "groupId": name}})
        if enabled:
            self.toggle(name, True, environment)

    def toggle(self, name: str, on: bool, environment: str = "production") -> None:
        self._send("POST", f"/projects/{PROJECT}/features/{name}/environments/{environment}/{'on' if on else 'off'}")

    def set_rollout(self, name: str, rollout: int, environment: str = "production") -> None:
        path = f"/projects/{PROJECT}/features/{name}/environments/{environment}/strategies"
        strategy = self._send("GET", path).json()[0]
        self._send("PUT", f"{path}/{strategy['id']}",
                   {"name": strategy["name"], "parameters": {**strategy["parameters"], "rollout": str(rollout)},
                    "constraints": strategy["constraints"]})

    def mark_stale(self, name: str, stale: bool = True) -> None:
        self._send("POST", f"/projects/{PROJECT}/stale", {"features": [name], "stale": stale})

    def enabled(self, name: str, environment: str) -> bool:
        feature = self._send("GET", f"/projects/{PROJECT}/features/{name}").json()
        return next(bool(e["enabled"]) for e in feature["environments"] if e["name"] == environment)

    def event_ids(self, name: str) -> list[int]:
        events = self._send("GET", f"/search/events?feature=IS:{name}&limit=100").json()["events"]
        return [int(e["id"]) for e in events]
