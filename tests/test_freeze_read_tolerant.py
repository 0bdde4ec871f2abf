"""A deploy API that does not implement the freeze (an older contract, a catch-all answer, a 405 or 501) still
shows its rollouts: only a server that has answered the freeze once fails its poll when it cannot answer it now."""

from __future__ import annotations

from typing import Any

import pytest

from monotui.config import HttpSourceConfig
from monotui.providers.base import ProviderError
from monotui.providers.http_deploy import HttpDeployProvider

from .hostile import HostileServer, json_answer
from .test_hostile import answers, deploy_api, http_source  # noqa: F401 — `answers` is a fixture


@pytest.mark.parametrize("freeze", [json_answer(b"<html>not here</html>"), json_answer(b"{}", status=500),
                                    json_answer(b"", status=405), json_answer(b"", status=501)],
                         ids=["garbage", "http 500", "http 405", "http 501"])
async def test_a_server_without_a_freeze_still_shows_its_rollouts(answers: dict[str, bytes],  # noqa: F811
                                                                   freeze: Any) -> None:
    with HostileServer(deploy_api(answers, freeze=freeze)) as server:
        provider = HttpDeployProvider(HttpSourceConfig(**http_source(server.url)))
        try:
            result = await provider.poll()
            assert result.rollouts and result.freeze is None
        finally:
            await provider.aclose()


async def test_a_server_that_answered_its_freeze_fails_the_poll_when_it_cannot_now(
        answers: dict[str, bytes]) -> None:  # noqa: F811
    routes = deploy_api(answers, freeze=json_answer(b'{"frozen": false}'))
    with HostileServer(routes) as server:
        provider = HttpDeployProvider(HttpSourceConfig(**http_source(server.url)))
        try:
            assert (await provider.poll()).freeze is not None
            routes["/v1/freeze"] = json_answer(b"{}", status=500)
            with pytest.raises(ProviderError):
                await provider.poll()
        finally:
            await provider.aclose()
