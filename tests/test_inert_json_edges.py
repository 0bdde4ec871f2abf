"""inert_json against its reference, json.dumps(inert(data), indent=2, ensure_ascii=True), at the edges the property
test leaves out: a NaN or infinity (json.dumps writes them; the C formatter refused the text with a traceback)."""

from __future__ import annotations

import json

import pytest

from monotui.render.inert import inert, inert_json


@pytest.mark.parametrize("data", [[float("nan")], {"x\x1b": float("inf")}, {"a": [-float("inf"), "\x9b"]}])
def test_a_non_finite_number_is_written_as_json_dumps_writes_it(data: object) -> None:
    assert inert_json(data) == json.dumps(inert(data), indent=2, ensure_ascii=True)
    assert inert_json(data, indent=None) == json.dumps(inert(data), ensure_ascii=True)
