"""Kubernetes access shared by every source that reads a cluster (Argo Rollouts today; Flagger or pod logs can
use it as they are): client creation from a kubeconfig or the in-cluster service account, list, watch (label and
field selectors), get, PATCH and create of any resource — core/v1 Events among them.

kr8s (httpx-based, like the rest of monotui) loads the kubeconfig or the in-cluster service account and handles
credentials: exec plugins, client certificates, bearer tokens, CA data. It is imported only when a client first
connects, so nothing else pays for it (and a base install without Kubernetes support can leave it out). On top
of its `call_api`, this module speaks the list + watch protocol itself (resourceVersion, bookmarks, resume,
relist on 410) so that monotui controls exactly what is requested, and sends each PATCH once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from monotui.config import DEFAULT_MAX_RESPONSE_MB
from monotui.providers.base import ProviderError, server_message, status_kind, transport_error
from monotui.providers.http_edge import LARGE_BODY, TooLarge, bounded_lines, read_bounded, scrub, too_large_message
from monotui.providers.paging import RELISTS, Pages, Relist

SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


@dataclass(frozen=True)
class Resource:
    group_version: str
    plural: str
    kind: str

    @property
    def base(self) -> str:
        return "/api" if self.group_version == "v1" else "/apis"


REPLICA_SETS = Resource("apps/v1", "replicasets", "ReplicaSet")
PODS = Resource("v1", "pods", "Pod")
DEPLOYMENTS = Resource("apps/v1", "deployments", "Deployment")
EVENTS = Resource("v1", "events", "Event")


class MissingKubernetesSupport(ProviderError):
    """kr8s is not installed: a Kubernetes source cannot connect."""


def _kr8s() -> Any:
    """kr8s, imported on first use (with its asyncio API)."""
    try:
        import kr8s
        import kr8s.asyncio
    except ImportError:
        raise MissingKubernetesSupport(
            "connection", "Kubernetes sources need kr8s, which is not installed (pip install kr8s)") from None
    return kr8s


class Expired(Exception):
    """The watch's resourceVersion is too old (410): list again."""


def error_for(response: httpx.Response, what: str) -> ProviderError:
    code = response.status_code
    return ProviderError(status_kind(code), f"{what}: HTTP {code}: {server_message(response)}", code)


class KubeClient:
    def __init__(self, *, kubeconfig: Path | None, context: str | None, in_cluster: bool, timeout: float,
                 max_response_mb: float = DEFAULT_MAX_RESPONSE_MB) -> None:
        self._kubeconfig = str(kubeconfig.expanduser()) if kubeconfig else None
        self._context = context
        self._in_cluster = in_cluster
        self.timeout = timeout
        self.max_response_mb = max_response_mb
        self._api: Any = None

    async def api(self) -> Any:
        if self._api is None:
            kr8s = _kr8s()
            try:
                if self._in_cluster:
                    self._api = await kr8s.asyncio.api(serviceaccount=SERVICE_ACCOUNT)
                else:
                    self._api = await kr8s.asyncio.api(kubeconfig=self._kubeconfig, context=self._context)
            except ProviderError:
                raise
            except kr8s.ServerError as e:
                if e.response is not None:
                    raise error_for(e.response, "connect") from None
                raise ProviderError("connection", f"connect: {e}") from None
            except httpx.HTTPError as e:
                raise ProviderError("connection", f"connect: cannot connect ({e or type(e).__name__})") from None
            except Exception as e:  # kr8s raises plain exceptions for unreadable kubeconfigs and contexts
                raise ProviderError("connection", f"kubeconfig: {type(e).__name__}: {e}") from None
        return self._api

    async def context_name(self) -> str:
        api = await self.api()
        return str(getattr(api.auth, "active_context", "") or self._context or "in-cluster")

    def scrubbed(self, error: ProviderError) -> ProviderError:
        """The error with the bearer token kr8s uses masked in its text (servers and libraries may quote it)."""
        token = getattr(getattr(self._api, "auth", None), "token", None)
        if not isinstance(token, str) or not token or token not in error.message:
            return error
        return type(error)(error.kind, scrub(error.message, [token]), error.status)

    async def _call(self, method: str, resource: Resource, namespace: str | None, url: str, *,
                    what: str, retry_auth: bool, **kwargs: Any) -> httpx.Response:
        try:
            return await self._call_unscrubbed(method, resource, namespace, url, what=what, retry_auth=retry_auth,
                                               **kwargs)
        except ProviderError as e:
            raise self.scrubbed(e) from None

    async def _call_unscrubbed(self, method: str, resource: Resource, namespace: str | None, url: str, *,
                               what: str, retry_auth: bool, **kwargs: Any) -> httpx.Response:
        api = await self.api()
        kr8s = _kr8s()
        try:
            # reads: a wall-clock deadline over connect and body (a PATCH's is the engine's action deadline);
            # the body bounded while it streams (and after decompression)
            async with asyncio.timeout(self.timeout if method == "GET" else None), api.call_api(
                    method, version=resource.group_version, base=resource.base, namespace=namespace, url=url,
                    raise_for_status=retry_auth, stream=True, timeout=self.timeout, **kwargs) as streamed:
                body = await read_bounded(streamed, int(self.max_response_mb * 1024 * 1024))
                response = httpx.Response(streamed.status_code, content=body, request=streamed.request)
        except TooLarge as e:
            raise ProviderError("invalid", too_large_message(what, e, self.max_response_mb)) from None
        except TimeoutError:
            raise ProviderError("timeout", f"{what}: no complete answer within {self.timeout:g}s") from None
        except kr8s.ServerError as e:
            if e.response is not None:
                raise error_for(e.response, what) from None
            raise ProviderError("http", f"{what}: {e}") from None
        except (httpx.HTTPError, kr8s.APITimeoutError, kr8s.ConnectionClosedError) as e:
            raise transport_error(e, what, self.timeout) from None
        if response.status_code >= 400:
            raise error_for(response, what)
        return response

    async def list(self, resource: Resource, namespace: str | None,
                   selector: str | None = None, fields: str | None = None) -> tuple[list[dict[str, Any]], str]:
        """Every object of a list and the list's resourceVersion, read in pages (`limit` + `continue`, as
        `kubectl --chunk-size` does): the size bound holds for each page; a continue token that expired (410)
        lists again from the first page (providers/paging.py bounds the pages and the relists)."""
        params = {"labelSelector": selector} if selector else {}
        if fields:
            params["fieldSelector"] = fields
        what = f"list {resource.plural}"

        async def fetch(page: dict[str, str | int]) -> tuple[tuple[list[dict[str, Any]], str], str | None]:
            response = await self._call("GET", resource, namespace, resource.plural, what=what, retry_auth=True,
                                        params={**params, **page})
            try:
                # a big list is decoded in a worker thread, so keys keep being handled meanwhile
                data = (await asyncio.to_thread(response.json) if len(response.content) > LARGE_BODY
                        else response.json())
                items = [item for item in data.get("items") or [] if isinstance(item, dict)]
                token = data["metadata"].get("continue") or None
                return (items, str(data["metadata"]["resourceVersion"])), token if isinstance(token, str) else None
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
                raise ProviderError("invalid", f"{what}: not a Kubernetes list") from None

        for _ in range(RELISTS):
            items: list[dict[str, Any]] = []
            version = ""
            try:
                async for (got, rv), _more in Pages(what, fetch, paged=True, count=lambda page: len(page[0])):
                    items += got
                    version = version or rv  # every page carries the snapshot's resourceVersion
            except Relist:
                continue
            return items, version
        raise ProviderError("invalid", f"{what}: the continue token expired {RELISTS} times in a row (410)")

    async def watch(self, resource: Resource, namespace: str | None, resource_version: str,
                    server_timeout: int = 300, fields: str | None = None) -> AsyncIterator[dict[str, Any]]:
        """Events from `resource_version` on, until the server ends the stream. Raises Expired on 410."""
        api = await self.api()
        params = {"watch": "1", "resourceVersion": resource_version, "allowWatchBookmarks": "true",
                  "timeoutSeconds": str(server_timeout)}
        if fields:
            params["fieldSelector"] = fields
        what = f"watch {resource.plural}"
        # no read timeout: a quiet watch sends only bookmarks; the server ends it after timeoutSeconds
        timeout = httpx.Timeout(self.timeout, read=server_timeout + 30)
        try:
            async with api.call_api("GET", version=resource.group_version, base=resource.base,
                                    namespace=namespace, url=resource.plural, params=params, stream=True,
                                    raise_for_status=False, timeout=timeout) as response:
                if response.status_code == 410:
                    raise Expired()
                if response.status_code >= 400:
                    await response.aread()
                    raise error_for(response, what)
                async for line in self._lines(response, what):
                    if not line.strip():
                        continue
                    try:
                        event = json.loads(line)
                    except json.JSONDecodeError:
                        raise ProviderError("invalid", f"{what}: not a watch event") from None
                    if event.get("type") == "ERROR":
                        obj = event.get("object") or {}
                        if obj.get("code") == 410:
                            raise Expired()
                        raise ProviderError("http", f"{what}: {obj.get('message', 'watch error')}", obj.get("code"))
                    yield event
        except httpx.TimeoutException:
            raise ProviderError("timeout", f"{what}: the stream stalled") from None
        except httpx.HTTPError as e:
            raise ProviderError("connection", f"{what}: {e or type(e).__name__}") from None

    async def _lines(self, response: httpx.Response, what: str) -> AsyncIterator[bytes]:
        """The stream's lines, each bounded by max_response_mb (one endless line must not fill memory)."""
        limit = int(self.max_response_mb * 1024 * 1024)
        async for line in bounded_lines(response, limit, lambda size: ProviderError(
                "invalid", too_large_message(what, TooLarge(size, True), self.max_response_mb))):
            yield line

    async def get(self, resource: Resource, namespace: str, name: str) -> dict[str, Any]:
        url = f"{resource.plural}/{name}"
        response = await self._call("GET", resource, namespace, url, what=f"get {url}", retry_auth=True)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ProviderError("invalid", f"get {url}: not an object")
        return data

    async def patch(self, resource: Resource, namespace: str, name: str, subresource: str, content_type: str,
                    body: Any) -> dict[str, Any]:
        url = f"{resource.plural}/{name}" + (f"/{subresource}" if subresource else "")
        response = await self._call(
            "PATCH", resource, namespace, url, what=f"patch {url}", retry_auth=False,
            content=json.dumps(body).encode(), headers={"Content-Type": content_type},
        )
        try:
            return dict(response.json())
        except (ValueError, TypeError):
            raise ProviderError("invalid", f"patch {url}: not an object") from None

    async def create(self, resource: Resource, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST one object to its collection (sent once: a create is not retried)."""
        response = await self._call(
            "POST", resource, namespace, resource.plural, what=f"create {resource.plural}", retry_auth=False,
            content=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        try:
            return dict(response.json())
        except (ValueError, TypeError):
            raise ProviderError("invalid", f"create {resource.plural}: not an object") from None

    async def aclose(self) -> None:
        """Close the connection pool, if a client was made."""
        session = getattr(self._api, "_session", None) if self._api is not None else None
        if session is not None:
            with contextlib.suppress(Exception):
                await session.aclose()


async def stream_lines(client: KubeClient, resource: Resource, namespace: str, url: str, params: dict[str, str],
                       what: str, *, follow: bool = True) -> AsyncIterator[bytes]:
    """The lines of a streamed answer (a pod's log with `follow`), each bounded by max_response_mb, until the
    server ends it. Raises ProviderError."""
    api = await client.api()
    # a quiet followed log sends nothing for as long as it likes; one not followed ends by itself: a stall is an error
    timeout = httpx.Timeout(client.timeout, read=None if follow else client.timeout)
    try:
        async with api.call_api("GET", version=resource.group_version, base=resource.base, namespace=namespace,
                                url=url, params=params, stream=True, raise_for_status=False,
                                timeout=timeout) as response:
            if response.status_code >= 400:
                # the error's body within the size bound and the deadline: one that never ends is no hang
                try:
                    async with asyncio.timeout(client.timeout):
                        body = await read_bounded(response, int(client.max_response_mb * 1024 * 1024))
                except TimeoutError:
                    body = b""
                except TooLarge as e:
                    raise ProviderError("invalid", too_large_message(what, e, client.max_response_mb)) from None
                raise client.scrubbed(error_for(httpx.Response(response.status_code, content=body), what))
            async for line in client._lines(response, what):
                yield line
    except httpx.HTTPError as e:
        raise ProviderError("connection", f"{what}: {e or type(e).__name__}") from None
    except (_kr8s().APITimeoutError, _kr8s().ConnectionClosedError) as e:  # kr8s's own for a stall or a cut
        raise transport_error(e, what, client.timeout) from None
