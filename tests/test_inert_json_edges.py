"""inert_json at the edges the property test leaves out: a NaN or infinity (JSON has neither: json.dumps wrote
`NaN`, which jq refuses, and the C formatter refused the text with a traceback) is written as null, whichever way
the text is written (msgspec, or json.dumps for a lone surrogate)."""

from __future__ import annotations

import json

import pytest

from monotui.render.inert import inert, inert_json


@pytest.mark.parametrize("data", [[float("nan")], {"x\x1b": float("inf")}, {"a": [-float("inf"), "\x9b"]},
                                  {"a": [float("nan"), "\udc80"]}])
def test_a_non_finite_number_is_written_as_null(data: object) -> None:
    text = inert_json(data)
    assert "NaN" not in text and "Infinity" not in text
    read = json.loads(text)
    assert read == json.loads(inert_json(data, indent=None))
    expected = json.loads(json.dumps(inert(data)).replace("-Infinity", "null").replace("Infinity", "null")
                          .replace("NaN", "null"))
    assert read == expected and (read[0] if isinstance(read, list) else next(iter(read.values()))) in (None, [
        None, "<U+009B>"], [None, "<U+DC80>"])
