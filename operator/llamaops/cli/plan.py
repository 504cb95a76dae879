"""`llamaops plan`: how a LlamaDeployment will be laid out on GPUs, before any GPU is touched.

Without nodes it sizes for one product (`--gpu`, else spec.gpu.product, else H100-80GB)
on nodes of `--gpus-per-node` GPUs. With `--nodes FILE` (`kubectl get nodes -o yaml`,
or `kubectl get nodes,pods -A -o yaml` to count the GPUs in use too) or
`--kubeconfig` it chooses among the products the cluster has and counts the replicas
its free GPUs hold.

Exit codes: 0 it fits (and, against nodes, at least one replica fits now); 1 it does
not (or the cluster could not be read);
2 bad input: an unreadable or invalid file, an unknown model, an impossible TP/PP.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from llamaops.api.resource import LlamaDeployment
from llamaops.catalog.gpus import find_product, known_names
from llamaops.cli.plan_output import plan_json, plan_table
from llamaops.cli.usage import UsageError
from llamaops.errors import SpecError
from llamaops.gpu_choice import GpuChoice, choose_gpu, size_for_product
from llamaops.inventory import InventoryError, replica_tolerations, take_inventory
from llamaops.manifest import ManifestError, load_deployment, load_documents
from llamaops.model_resolution import resolve_model

DEFAULT_PRODUCT = "H100-80GB"
DEFAULT_GPUS_PER_NODE = 8


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "plan",
        help="show how a LlamaDeployment will be laid out on GPUs, and why",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-f", "--filename", required=True, type=Path, help="LlamaDeployment YAML")
    parser.add_argument("--gpu", help=f"GPU product or alias ({known_names()})")
    parser.add_argument("--gpus-per-node", type=_positive, help="GPUs per node (default 8)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--nodes", type=Path, help="Nodes (and Pods): kubectl get nodes,pods -A -o yaml > FILE"
    )
    source.add_argument("--kubeconfig", help="plan against a live cluster")
    parser.add_argument("-o", "--output", choices=("table", "json"), default="table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        deployment = load_deployment(args.filename)
        choice = _choose(args, deployment)
    except (ManifestError, InventoryError) as error:
        raise UsageError(str(error)) from None
    except SpecError as error:
        raise UsageError(f"{args.filename}: {error}") from None
    if choice.placement is not None and not choice.placement.fits and _layout_fixed(deployment):
        raise UsageError(f"{args.filename}: spec.gpu: {choice.placement.reason}")
    if args.output == "json":
        print(json.dumps(plan_json(deployment, choice), indent=2, ensure_ascii=False))
    else:
        print(plan_table(deployment, choice))
    return 0 if _deployable(choice) else 1


def _choose(args: argparse.Namespace, deployment: LlamaDeployment) -> GpuChoice:
    spec = deployment.spec
    model = resolve_model(spec.model)
    gpu = spec.gpu
    if args.gpu:
        if find_product(args.gpu) is None and (args.nodes is None and args.kubeconfig is None):
            raise UsageError(f"--gpu: unknown GPU product {args.gpu!r}; known: {known_names()}")
        gpu = gpu.model_copy(update={"product": args.gpu})
    if args.nodes is None and args.kubeconfig is None:
        product = gpu.product or DEFAULT_PRODUCT
        placement = size_for_product(
            model, gpu, product, args.gpus_per_node or DEFAULT_GPUS_PER_NODE
        )
        return GpuChoice(placement, placement.reason)
    if args.gpus_per_node is not None:
        raise UsageError("--gpus-per-node: the nodes say how many GPUs they have; drop it")
    nodes, pods = _cluster(args)
    tolerations = replica_tolerations(spec.scheduling.tolerations)
    inventory = take_inventory(nodes, pods, tolerations, spec.scheduling.node_selector)
    return choose_gpu(model, gpu, inventory)


def _cluster(args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if args.nodes is not None:
        objects = load_documents(args.nodes)
        nodes = [o for o in objects if o.get("kind", "Node") == "Node" and "metadata" in o]
        if not nodes:
            raise UsageError(f"{args.nodes}: no Node objects (try kubectl get nodes -o yaml)")
        return nodes, [o for o in objects if o.get("kind") == "Pod"]
    # Imported here: the kubernetes client is slow to import and only this path needs it.
    from llamaops.kube.client import (  # noqa: PLC0415
        ClusterError,
        KubeconfigError,
        list_nodes_and_pods,
    )

    try:
        return list_nodes_and_pods(args.kubeconfig)
    except KubeconfigError as error:
        raise UsageError(f"--kubeconfig: {error}") from None
    except ClusterError as error:  # the cluster, not the user: one line, exit 1
        print(f"error: cannot read nodes and pods: {error}", file=sys.stderr)
        raise SystemExit(1) from None


def _deployable(choice: GpuChoice) -> bool:
    """It fits, and (when planned against nodes) at least one replica fits now."""
    if choice.placement is None or not choice.placement.fits:
        return False
    return choice.replicas_available is None or choice.replicas_available > 0


def _layout_fixed(deployment: LlamaDeployment) -> bool:
    gpu = deployment.spec.gpu
    return gpu.tensor_parallel_size is not None or gpu.pipeline_parallel_size is not None


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of GPUs, got {text!r}")
    return int(text)
