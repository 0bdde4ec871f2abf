"""Decoding the deploy API's bodies: the app's own models (msgspec structs, monotui/models.py) against `json.loads`
and orjson, on the bodies the simulator serves, side by side.

    python -m bench.decode [--sizes 1000 5000] [--repeat 9] [--smoke]    (orjson comes with the `bench` extra)

Two typed decoders: the whole envelope in one call (`models_typed`), and what the HTTP client really does
(`client_item_by_item`: the envelope with its items left raw, then each item on its own, so one unreadable item
never hides the others and the event loop can take the GIL between items). Each runs on an empty heap and again
with a heap like the app's (the rollouts and health of a 5,000-service production kept alive), because the
garbage collector scans what is alive while a decoder allocates. Medians.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from typing import Any

import msgspec

try:
    import orjson  # the `bench` extra: the fastest plain JSON parser, a floor to compare with
except ImportError:  # without it (the test extra alone) its column is left out
    orjson = None

from bench.common import emit, median, smoke
from monotui.models import HealthList, RolloutList
from monotui.providers.http_deploy import _HEALTH, _HEALTH_LIST, _ROLLOUT, _ROLLOUT_LIST
from monotui.providers.items import decode_items
from monotui.simulator.world import SimConfig, World


def _time(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return median(samples)


def decoders(body: bytes, model: Any, item_by_item: Callable[[bytes], Any]) -> dict[str, Callable[[], Any]]:
    typed = msgspec.json.Decoder(model)
    parsers = {"json_loads": lambda: json.loads(body)}
    if orjson is not None:
        parsers["orjson_loads"] = lambda: orjson.loads(body)
    return {**parsers,
            "models_typed": lambda: typed.decode(body), "client_item_by_item": lambda: item_by_item(body)}


def measure(services: int, repeat: int, heap: list[Any]) -> dict[str, Any]:
    world = World(SimConfig(services=services, seed=1, deploy_interval=2.0))
    for _ in range(40):
        world.step()
    bodies = {
        "rollouts": (msgspec.json.encode(RolloutList(rollouts=world.rollouts(), generated_at=world.now)), RolloutList,
                     lambda b: decode_items(_ROLLOUT_LIST.decode(b).rollouts, _ROLLOUT)),
        "health": (msgspec.json.encode(HealthList(services=world.health(), generated_at=world.now)), HealthList,
                   lambda b: decode_items(_HEALTH_LIST.decode(b).services, _HEALTH)),
    }
    out: dict[str, Any] = {"services": services}
    for name, (body, model, item_by_item) in bodies.items():
        # both typed decoders must read every item of this body
        assert len(item_by_item(body)) == services
        row: dict[str, Any] = {"body_bytes": len(body)}
        for heap_name, alive in (("empty_heap", None), ("app_heap", heap)):
            if alive is None:
                heap_backup, heap[:] = list(heap), []
            gc.collect()
            ms = {k: _time(fn, repeat) * 1000 for k, fn in decoders(body, model, item_by_item).items()}
            base = ms["json_loads"]
            row[heap_name] = {k: {"ms": round(v, 2), "x_json_loads": round(v / base, 2)} for k, v in ms.items()}
            if alive is None:
                heap[:] = heap_backup
        out[name] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds (MONOTUI_BENCH_SMOKE=1)")
    args = parser.parse_args()
    if smoke(args):
        args.sizes, args.repeat = [100], 1
    app_like = World(SimConfig(services=100 if smoke(args) else 5000, seed=2))
    heap = [app_like.rollouts(), app_like.health()]  # what the app keeps alive at 5,000 services
    for n in args.sizes:
        emit("decode", measure(n, args.repeat, heap))


if __name__ == "__main__":
    main()
