"""Reasons of LlamaDeployment events and conditions, defined once (CamelCase, as Kubernetes
wants them). Events and conditions share a reason when they report the same thing: the
Warning event `InsufficientGPU` comes with `Scheduled=False`, reason `InsufficientGPU`.
"""

# --- condition types ------------------------------------------------------------------
AVAILABLE = "Available"
PROGRESSING = "Progressing"
DEGRADED = "Degraded"
SCHEDULED = "Scheduled"
CONDITION_TYPES = (AVAILABLE, PROGRESSING, DEGRADED, SCHEDULED)

# --- actions (events) -----------------------------------------------------------------
CREATED = "Created"  # a replica Pod, the Service or the PodDisruptionBudget was created
DELETED = "Deleted"  # a replica that never ran was removed on scale-down
DRAIN_STARTED = "DrainStarted"  # a replica left the Service; its requests finish
DRAINED = "Drained"  # a drained replica had no request left and was deleted
DRAIN_TIMED_OUT = "DrainTimedOut"  # a replica was deleted at the drain timeout
REPLICA_FAILED = "ReplicaFailed"  # a failed or lost replica was deleted, to be replaced
ROLLOUT_FAILED = "RolloutFailed"  # a new replica failed: the rollout halts, new pods go

# --- Scheduled ------------------------------------------------------------------------
SCHEDULED_OK = "Scheduled"  # True: every wanted replica has a place
INSUFFICIENT_GPU = "InsufficientGPU"  # False: the layout fits, the free GPUs do not hold it
NO_FITTING_GPU = "NoFittingGPU"  # False: no GPU product the cluster has can hold a replica
MULTI_NODE_UNSUPPORTED = "MultiNodeUnsupported"  # False: a replica would span nodes
INVALID_SPEC = "InvalidSpec"  # False (and Degraded): the spec cannot be acted on

# --- Available ------------------------------------------------------------------------
REPLICAS_READY = "ReplicasReady"  # True: at least the required replicas are ready
REPLICAS_NOT_READY = "ReplicasNotReady"  # False: fewer than required are ready

# --- Progressing ----------------------------------------------------------------------
REPLICAS_STARTING = "ReplicasStarting"  # True: replicas are being created or are loading
SCALING_DOWN = "ScalingDown"  # True: extra replicas are draining
COMPLETE = "Complete"  # False: the wanted replicas are all ready, nothing left to do
PROGRESS_DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"  # False: loading past the timeout
ROLLING_OUT = "RollingOut"  # True: replicas move to the spec's pod template
ROLLOUT_BLOCKED = "RolloutBlocked"  # False: no GPU for a surge replica, none may go first
ROLLOUT_PAUSED = "RolloutPaused"  # False: rollout.paused holds it between steps
CANARY_REGRESSED = "CanaryRegressed"  # False (rollout halted): the canary served worse
CANARY_PASSED = "CanaryPassed"  # event: the canary's analysis passed
WARMUP_FAILED = "WarmupFailed"  # False (rollout halted): a new replica's warm-up failed
# A halted rollout also reports ReplicaCrashLooping or ProgressDeadlineExceeded.
# Progressing=False also takes InsufficientGPU, NoFittingGPU, MultiNodeUnsupported and
# InvalidSpec: nothing moves until the cluster or the spec changes.

# --- Degraded -------------------------------------------------------------------------
AS_EXPECTED = "AsExpected"  # False: no replica is failing
REPLICA_CRASH_LOOPING = "ReplicaCrashLooping"  # True: a container waits in CrashLoopBackOff
# True: a container cannot be created, its configuration is wrong (the pod's
# CreateContainerConfigError: a Secret, such as the Hugging Face token's, is missing).
REPLICA_CONFIG_ERROR = "ReplicaConfigError"
# Degraded=True also takes ReplicaFailed and InvalidSpec.

WARNING_REASONS = frozenset(
    {
        DRAIN_TIMED_OUT,
        REPLICA_FAILED,
        INSUFFICIENT_GPU,
        NO_FITTING_GPU,
        MULTI_NODE_UNSUPPORTED,
        INVALID_SPEC,
        REPLICAS_NOT_READY,
        REPLICA_CRASH_LOOPING,
        REPLICA_CONFIG_ERROR,
        PROGRESS_DEADLINE_EXCEEDED,
        ROLLOUT_FAILED,
        ROLLOUT_BLOCKED,
        WARMUP_FAILED,
        CANARY_REGRESSED,
    }
)


def event_type(reason: str) -> str:
    """`Warning` for reasons that need a person's attention, `Normal` otherwise."""
    return "Warning" if reason in WARNING_REASONS else "Normal"
