"""The fixed names of llamaops' children (shared/DESIGN.md)."""

LABEL_NAME = "app.kubernetes.io/name"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_DEPLOYMENT = "serving.llamaops.io/deployment"
LABEL_CHECKPOINT = "serving.llamaops.io/checkpoint"
LABEL_TEMPLATE_HASH = "serving.llamaops.io/template-hash"
LABEL_SERVING = "serving.llamaops.io/serving"
ANNOTATION_DRAIN_STARTED = "serving.llamaops.io/drain-started"
# A rollout replica's warm-up: "pending" (out of the Service until it answers), "passed",
# or "failed: why".
ANNOTATION_WARMUP = "serving.llamaops.io/warmup"
# A rollout replica: when it joined the Service; the canary's analysis and its baseline.
ANNOTATION_SERVING_SINCE = "serving.llamaops.io/serving-since"
ANNOTATION_CANARY = "serving.llamaops.io/canary"
ANNOTATION_CANARY_BASELINE = "serving.llamaops.io/canary-baseline"
# On a LlamaDeployment: changing it rolls every replica (any value, e.g. a timestamp).
ANNOTATION_RESTARTED_AT = "serving.llamaops.io/restartedAt"
FINALIZER = "serving.llamaops.io/drain"
ENGINE_PORT = 8000
CONTAINER_NAME = "vllm"
MANAGER = "llamaops"


def replica_selector(deployment: str) -> dict[str, str]:
    """Labels every replica pod of a deployment carries."""
    return {LABEL_NAME: "vllm", LABEL_MANAGED_BY: MANAGER, LABEL_DEPLOYMENT: deployment}


def selector_string(deployment: str) -> str:
    """The label selector written to status.selector (for the scale subresource)."""
    return ",".join(f"{k}={v}" for k, v in replica_selector(deployment).items())
