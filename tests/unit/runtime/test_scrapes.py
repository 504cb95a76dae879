"""Shared reads of a replica's /metrics: callers at the same moment share one request, a
reading younger than the caller's limit is reused, an older one is read again."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web

from llamaops.runtime.scrapes import Scrapes

IP = "127.55.0.1"  # a loopback address of its own: the engine port is fixed (8000)
EXPOSITION = (
    'vllm:num_requests_waiting{model_name="m"} 3\nvllm:num_requests_running{model_name="m"} 1\n'
)


@asynccontextmanager
async def an_engine() -> AsyncIterator[list[int]]:
    hits: list[int] = []

    async def metrics(request: web.Request) -> web.Response:
        hits.append(1)
        await asyncio.sleep(0.05)
        return web.Response(text=EXPOSITION)

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, IP, 8000).start()
    try:
        yield hits
    finally:
        await runner.cleanup()


POD = {"metadata": {"name": "p", "uid": "u1"}, "status": {"podIP": IP}}


async def scenario() -> tuple[list[int], list[object]]:
    async with an_engine() as hits, aiohttp.ClientSession() as session:
        scrapes = Scrapes(session)
        together = await asyncio.gather(scrapes.read(POD, 1.0), scrapes.read(POD, 1.0))
        counts = [len(hits)]
        again = await scrapes.read(POD, 5.0)  # young enough
        counts.append(len(hits))
        await asyncio.sleep(0.2)
        fresh = await scrapes.read(POD, 0.1)  # too old for this caller
        counts.append(len(hits))
        gone = await scrapes.read(
            {**POD, "metadata": {**POD["metadata"], "deletionTimestamp": "x"}}, 1
        )
        return counts, [*together, again, fresh, gone]


def test_one_scrape_answers_every_caller_within_its_age() -> None:
    counts, results = asyncio.run(scenario())

    assert counts == [1, 1, 2]
    reading, _ = results[0]  # type: ignore[misc]
    assert reading is not None and reading.waiting == 3 and reading.running == 1
    assert results[0] == results[1] == results[2]
    assert results[4] == (None, None), "a terminating pod is not read"
