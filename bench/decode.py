"""Decoding the deploy API's bodies: pydantic (what the client does today) against `json.loads`, orjson and
msgspec into typed structs, on the bodies the simulator serves, side by side.

    python -m bench.decode [--sizes 1000 5000] [--repeat 9]      (needs the `bench` extra: msgspec, orjson)

Each decoder runs on an empty heap and again with a heap like the app's (the validated rollouts of a 5,000-service
production kept alive), because the garbage collector scans what is alive while a decoder allocates. Medians.
The msgspec structs below mirror monotui/models.py for this measurement only; see docs/performance.md for the plan.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import msgspec
import orjson

from bench.common import emit, median
from monotui.models import HealthList, Phase, RolloutList, Strategy
from monotui.simulator.world import SimConfig, World

Percent = Annotated[int, msgspec.Meta(ge=0, le=100)]
NonNegative = Annotated[float, msgspec.Meta(ge=0)]


class Step(msgspec.Struct, frozen=True, gc=False):
    weight: Percent | None = None
    pause: bool = False
    duration_s: NonNegative | None = None
    label: str | None = None


class RevisionInfo(msgspec.Struct, frozen=True, gc=False):
    revision: int
    version: str
    image: str = ""
    commit: str = ""
    commit_message: str = ""
    author: str = ""
    deployed_at: datetime | None = None


class ImageTag(msgspec.Struct, frozen=True, gc=False):
    image: str
    tags: list[str] = []


class Metric(msgspec.Struct, frozen=True, gc=False):
    name: str
    phase: str = ""
    message: str = ""
    values: list[str] = []
    successful: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0


class Analysis(msgspec.Struct, frozen=True, gc=False):
    name: str
    revision: int | None = None
    phase: str = ""
    message: str = ""
    metrics: list[Metric] = []


class Rollout(msgspec.Struct, frozen=True, gc=False):
    id: str
    service: str
    environment: str
    strategy: Strategy
    phase: Phase
    revision: int
    version: str
    started_at: datetime
    message: str = ""
    image: str = ""
    commit: str = ""
    commit_message: str = ""
    author: str = ""
    updated_at: datetime | None = None
    steps: list[Step] = []
    current_step: int | None = None
    set_weight: Percent = 0
    actual_weight: Percent = 0
    pause_reason: str | None = None
    stable: RevisionInfo | None = None
    rollback_to: RevisionInfo | None = None
    rolled_back_at: datetime | None = None
    images: list[ImageTag] = []
    analysis: list[Analysis] = []
    errors: list[str] = []


class RolloutListStruct(msgspec.Struct, frozen=True, gc=False):
    rollouts: list[Rollout]
    generated_at: datetime | None = None


class HealthSeries(msgspec.Struct, frozen=True, gc=False):
    interval_s: float = 1.0
    error_ratio: list[float] = []
    p99_ms: list[float] = []


class ServiceHealth(msgspec.Struct, frozen=True, gc=False):
    service: str
    error_ratio: Annotated[float, msgspec.Meta(ge=0, le=1)]
    p99_ms: NonNegative
    rps: NonNegative
    series: HealthSeries = HealthSeries()


class HealthListStruct(msgspec.Struct, frozen=True, gc=False):
    services: list[ServiceHealth]
    generated_at: datetime | None = None


def _time(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return median(samples)


def decoders(body: bytes, pydantic_model: Any, struct: Any) -> dict[str, Callable[[], Any]]:
    typed = msgspec.json.Decoder(struct)
    return {"json_loads": lambda: json.loads(body), "orjson_loads": lambda: orjson.loads(body),
            "pydantic_validate_json": lambda: pydantic_model.model_validate_json(body),
            "msgspec_typed": lambda: typed.decode(body)}


def measure(services: int, repeat: int, heap: list[Any]) -> dict[str, Any]:
    world = World(SimConfig(services=services, seed=1, deploy_interval=2.0))
    for _ in range(40):
        world.step()
    bodies = {"rollouts": (RolloutList(rollouts=world.rollouts(), generated_at=world.now).model_dump_json().encode(),
                           RolloutList, RolloutListStruct),
              "health": (HealthList(services=world.health(), generated_at=world.now).model_dump_json().encode(),
                         HealthList, HealthListStruct)}
    out: dict[str, Any] = {"services": services}
    for name, (body, model, struct) in bodies.items():
        # the typed decoder must read the same items as pydantic from this body
        decoded = msgspec.json.decode(body, type=struct)
        assert len(decoded.rollouts if name == "rollouts" else decoded.services) == services
        row: dict[str, Any] = {"body_bytes": len(body)}
        for heap_name, alive in (("empty_heap", None), ("app_heap", heap)):
            if alive is None:
                heap_backup, heap[:] = list(heap), []
            gc.collect()
            ms = {k: _time(fn, repeat) * 1000 for k, fn in decoders(body, model, struct).items()}
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
    args = parser.parse_args()
    app_like = World(SimConfig(services=5000, seed=2))
    heap = [app_like.rollouts(), app_like.health()]  # what the app keeps alive at 5,000 services
    for n in args.sizes:
        emit("decode", measure(n, args.repeat, heap))


if __name__ == "__main__":
    main()
