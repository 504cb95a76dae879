"""`llamaops sim autoscale`: how autoscaling policies would serve a trace, on virtual time.

A discrete-event simulation of a LlamaDeployment's replicas (sized for the cluster file's
GPUs as the operator sizes them, each the local cluster's simulated vLLM engine, loading
for as long as its weights and start-up take) under a trace, once per policy:

  llamaops     the operator's own decision        hpa-queue  HPA on waiting requests/pod
  keda         KEDA as vLLM production-stack ships it      kubeai  KubeAI's autoscaler
  static-peak  the peak's replicas all the time   oracle     hindsight: the fewest that
                                                             meet the SLO, started early
The trace: --trace FILE, JSON Lines of {"t": seconds, "prompt_tokens": N,
"output_tokens": M} (lengths optional), or --shape diurnal (24 h), spike, bursty (3 h)
or step (2 h), its peak 80 % of what the deployment's replicas carry within the SLO.
SLO defaults: MLPerf's Server targets for the model's size (8B: TTFT 2 s, TPOT 100 ms;
70B: 2 s, 200 ms; 405B: 6 s, 175 ms).

Exit codes: 0 the study ran; 2 bad input (a missing or invalid file, a bad trace line,
an unknown policy or shape, a manifest the CRD refuses, an SLO no replica can meet).
"""

import argparse
import json
import os
from pathlib import Path
from typing import Any

from llamaops.cli.usage import UsageError, positive
from llamaops.manifest import ManifestError, load_deployment
from llamaops.sim.capacity.deployment import Deployment, DeploymentError, plan_deployment
from llamaops.sim.capacity.oracle import UnattainableError
from llamaops.sim.capacity.report import to_json, to_table
from llamaops.sim.capacity.run import POLICIES, Study, StudyError, prepare, run_study
from llamaops.sim.capacity.simulation import CLIENT_TIMEOUT_SECONDS
from llamaops.sim.capacity.slo import slo_for
from llamaops.sim.capacity.traces import SHAPES, Trace, trace_of
from llamaops.sim.cluster.config import ClusterFileError, load_cluster_file
from llamaops.sim.traffic.shapes import replay
from llamaops.sim.traffic.trace import TraceError, read_trace


def register_autoscale(sim_commands: Any) -> None:
    parser = sim_commands.add_parser(
        "autoscale",
        help="simulate autoscaling policies on a trace: GPU-hours, SLO attainment, latency",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--manifest", required=True, type=Path, metavar="FILE", help="LlamaDeployment YAML")
    add("--cluster", required=True, type=Path, metavar="FILE", help="cluster file (sim up's)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--trace", type=Path, metavar="FILE", help="JSONL of requests")
    source.add_argument("--shape", choices=SHAPES, help="a built-in traffic shape")
    add("--slo-ttft", type=positive(float), metavar="S", help="time to first token target, s")
    add(
        "--slo-tpot",
        type=positive(float),
        metavar="S",
        help="time per output token target, seconds",
    )
    add("--policy", action="append", choices=POLICIES, help="repeatable (default: all)")
    add("--duration", type=positive(float), metavar="S", help="seconds of trace (a shape's length)")
    add("--seed", type=int, default=0, metavar="N", help="for arrivals and lengths (0)")
    timeout = f"how long a request waits for a ready replica ({CLIENT_TIMEOUT_SECONDS:g} s)"
    add(
        "--client-timeout",
        type=positive(float),
        default=CLIENT_TIMEOUT_SECONDS,
        metavar="S",
        help=timeout,
    )
    jobs = "policies simulated at once, one process each (default: the CPUs)"
    add("--jobs", type=positive(int), default=os.cpu_count() or 1, metavar="N", help=jobs)
    add("-o", "--output", choices=("table", "json"), default="table")
    parser.set_defaults(run=run_autoscale)


def run_autoscale(args: argparse.Namespace) -> int:
    study = _study(args, _deployment(args))
    policies = list(dict.fromkeys(args.policy or POLICIES))
    results = run_study(study, policies, jobs=args.jobs)
    if args.output == "json":
        print(json.dumps(to_json(study, results), indent=2, ensure_ascii=False))
    else:
        print(to_table(study, results))
    return 0


def _deployment(args: argparse.Namespace) -> Deployment:
    try:
        deployment = load_deployment(args.manifest)
        cluster = load_cluster_file(args.cluster)
        return plan_deployment(deployment, cluster)
    except (ManifestError, ClusterFileError) as error:
        raise UsageError(str(error)) from None
    except DeploymentError as error:
        raise UsageError(f"{args.manifest}: {error}") from None


def _study(args: argparse.Namespace, deployment: Deployment) -> Study:
    slo = slo_for(deployment.model.architecture.parameters, args.slo_ttft, args.slo_tpot)
    max_len = deployment.engine.max_model_len
    trace = _trace(args.trace, max_len, args.seed) if args.trace else None
    try:
        return prepare(
            deployment,
            slo,
            shape=args.shape,
            trace=trace,
            duration=args.duration,
            seed=args.seed,
            client_timeout=args.client_timeout,
        )
    except UnattainableError as error:
        raise UsageError(f"--slo-ttft/--slo-tpot: {error}") from None
    except StudyError as error:
        raise UsageError(f"--trace: {error}") from None


def _trace(path: Path, max_model_len: int, seed: int) -> Trace:
    try:
        return trace_of(replay(read_trace(path)), max_model_len, seed)
    except TraceError as error:
        raise UsageError(f"--trace: {error}") from None
