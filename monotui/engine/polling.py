"""One serial polling loop per source: the next poll starts only after the previous one ended, and a failing
source backs off exponentially, then recovers by itself."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import random
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass

from monotui import startup_gc
from monotui.engine.state import ProductionState
from monotui.providers.base import PagedSource, PollResult, ProviderError, Source, WatchingSource

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 30.0
APPLY_SLICE = 500  # rollouts of a partial answer applied at once, at most (a slice takes a few ms)
FREEZE_AT = 1000  # rollouts in a source's first list from which its heap is worth freezing (see below)


def backoff_delay(interval: float, failures: int, rng: random.Random | None = None) -> float:
    """Delay before the next poll after `failures` consecutive failures (0 = healthy: the poll interval)."""
    if failures <= 0:
        return interval
    cap = min(MAX_BACKOFF_S, max(interval * 16, interval))
    delay: float = min(cap, interval * 2 ** (failures - 1))
    jitter: float = (rng or random).uniform(0.9, 1.1)  # de-synchronise many monotui instances
    return delay * jitter


@dataclass(frozen=True)
class SourceUpdate:
    source: str
    ok: bool
    error: str | None = None
    next_poll_in: float = 0.0
    more: bool = False  # one page of a paged poll applied; the poll goes on


_SERIAL: weakref.WeakKeyDictionary[Source, asyncio.Lock] = weakref.WeakKeyDictionary()


async def poll_once(state: ProductionState, provider: Source, timeout: float) -> SourceUpdate:
    """One poll of a source, applied. A poll asked for meanwhile (the `r` key, after a silence) waits for this
    one: two polls of one source at once could apply the older list last (and a full list is applied in steps),
    and the source would then skip the newer one, the same as it already answered, until it changed."""
    lock = _SERIAL.get(provider)
    if lock is None:
        lock = _SERIAL[provider] = asyncio.Lock()
    async with lock:
        return await _poll_once(state, provider, timeout)


async def poll_pages(state: ProductionState, provider: PagedSource, timeout: float) -> AsyncIterator[SourceUpdate]:
    """One poll of a paged source, each page applied as it comes (an update with `more` after each), then the
    poll's own update. Each page has the deadline a whole poll has elsewhere."""
    lock = _SERIAL.get(provider)
    if lock is None:
        lock = _SERIAL[provider] = asyncio.Lock()
    async with lock:
        async for update in _poll_pages(state, provider, timeout):
            yield update


async def _poll_pages(state: ProductionState, provider: PagedSource, timeout: float) -> AsyncIterator[SourceUpdate]:
    name = provider.name
    pages = provider.poll_pages()
    try:
        while True:
            try:
                async with asyncio.timeout(timeout * 2 + 1):
                    result = await anext(pages)
            except StopAsyncIteration:
                return
            except (ProviderError, TimeoutError) as e:
                message = str(e) if isinstance(e, ProviderError) else (
                    f"no complete answer within {timeout * 2 + 1:g}s")
                yield _failed(state, name, message, state.status(name).failures + 1)
                return
            except Exception as e:  # a provider bug must not take the app down
                log.exception("poll of %s failed", name)
                yield _failed(state, name, f"internal error: {type(e).__name__}: {e}", state.status(name).failures + 1)
                return
            await apply_result(state, name, result)
            yield SourceUpdate(name, True, more=result.more)
    finally:
        close = getattr(pages, "aclose", None)
        if close is not None:
            await close()


async def _poll_once(state: ProductionState, provider: Source, timeout: float) -> SourceUpdate:
    name = provider.name
    if isinstance(provider, PagedSource):
        updates = [u async for u in _poll_pages(state, provider, timeout)]
        return updates[-1] if updates else SourceUpdate(name, False, "the poll gave no result")
    status = state.status(name)
    try:
        # each request has its own wall-clock deadline (`timeout`, in the HTTP edge); this bounds the whole poll
        async with asyncio.timeout(timeout * 2 + 1):
            result = await provider.poll()
    except (ProviderError, TimeoutError) as e:
        message = str(e) if isinstance(e, ProviderError) else f"no complete answer within {timeout * 2 + 1:g}s"
        return _failed(state, name, message, status.failures + 1)
    except Exception as e:  # a provider bug must not take the app down; it shows in the panel instead
        log.exception("poll of %s failed", name)
        return _failed(state, name, f"internal error: {type(e).__name__}: {e}", status.failures + 1)
    await apply_result(state, name, result)
    return SourceUpdate(name, True)


async def apply_result(state: ProductionState, name: str, result: PollResult) -> None:
    """A poll's or watch's result into the state, a long list compared in steps with keys handled between them;
    a source's first big list then freezes the heap (below)."""
    first = state.status(name).last_ok is None
    whole = result
    rollouts = result.rollouts or []
    if result.partial and not result.events and len(rollouts) > APPLY_SLICE:
        # a big partial answer (a page of a listing): applied a slice at a time, keys handled between slices; the
        # poll's own figures (health, freeze, removals, its status) come with the last slice
        slices = [rollouts[start:start + APPLY_SLICE] for start in range(0, len(rollouts), APPLY_SLICE)]
        for part in slices[:-1]:
            state.apply_poll(name, PollResult(rollouts=part, partial=True, more=True))
            await asyncio.sleep(0)
        result = dataclasses.replace(result, rollouts=slices[-1])
    for _ in state.apply_poll_steps(name, result):
        await asyncio.sleep(0)
    if first:
        freeze_first_list(whole)


def freeze_first_list(result: PollResult) -> None:
    """After a source's first list of many rollouts, move everything alive now (the app as started, the models
    just read) out of the garbage collector's sight: its full collections then walk only what came later.

    With many rollouts each full collection walks every model's lists (they are tracked even though the model is
    not), holding the event loop several times a minute while keys wait; after the freeze it walks only what came
    later. Once per source, at its first list: the garbage in cycles that is alive at that moment is never
    collected, a bounded one-off (a freeze at every list would let that grow)."""
    if startup_gc.paused():
        return  # start-up's garbage is not collected yet: `startup_gc.resume` collects, then freezes the list too
    if result.rollouts is not None and len(result.rollouts) >= FREEZE_AT:
        gc.freeze()


def _failed(state: ProductionState, name: str, message: str, failures: int) -> SourceUpdate:
    interval = state.settings.source(name).poll_interval
    delay = backoff_delay(interval, failures)
    state.apply_error(name, message, delay)
    return SourceUpdate(name, False, message, delay)


async def poll_forever(state: ProductionState, provider: Source) -> AsyncIterator[SourceUpdate]:
    if isinstance(provider, WatchingSource):
        async for update in watch_forever(state, provider):
            yield update
        return
    config = state.settings.source(provider.name)
    while True:
        if isinstance(provider, PagedSource):
            update = SourceUpdate(provider.name, False, "the poll gave no result")
            async for update in poll_pages(state, provider, config.timeout):
                if update.more:
                    yield update
        else:
            update = await poll_once(state, provider, config.timeout)
        delay = update.next_poll_in if not update.ok else config.poll_interval
        yield SourceUpdate(update.source, update.ok, update.error, delay)
        await asyncio.sleep(delay)


async def watch_forever(state: ProductionState, provider: WatchingSource) -> AsyncIterator[SourceUpdate]:
    """Apply a watching source's snapshots and changes as they come; on failure back off and start again
    (which lists everything anew)."""
    name = provider.name
    config = state.settings.source(name)
    while True:
        try:
            async for result in provider.watch():
                await apply_result(state, name, result)
                yield SourceUpdate(name, True)
            message = "the watch ended"
        except ProviderError as e:
            message = str(e)
        except Exception as e:  # a provider bug must not take the app down
            log.exception("watch of %s failed", name)
            message = f"internal error: {type(e).__name__}: {e}"
        update = _failed(state, name, message, state.status(name).failures + 1)
        yield update
        await asyncio.sleep(update.next_poll_in if config.poll_interval else 1.0)
