"""An OpenAI-API load generator: `llamaops sim traffic --target URL`.

It sends completions to any OpenAI-compatible server (the simulated engines behind a
Service proxy, or a real vLLM) on a schedule, and records what each request did: when it
started, its status, time to first token, latency, output tokens and the pod that served
it. It is a client, like any real load tester, so it runs on wall time, not on the local
cluster's clock: run the cluster at `--speed 1` when the figures must mean seconds.

shapes   when requests arrive (constant, step, burst, replayed trace)   pure
lengths  how long prompts and outputs are (fixed, uniform, lognormal, choice)   pure
trace    reading a trace file into arrivals
plan     arrivals + lengths -> the list of requests to send   pure
client   one request and its Record
run      the schedule, driven with bounded concurrency
summary  ok / failed / percentiles / per-pod counts   pure

The package itself imports nothing, so the CLI can parse flags without loading aiohttp.
"""
