"""Where replicas go, and what the planner does when they cannot: InsufficientGPU (only
what fits is created, nothing churns), NoFittingGPU and MultiNodeUnsupported (no pod
action, the layout in status), InvalidSpec (no action at all)."""

import pytest

from llamaops.reconcile import reasons
from llamaops.reconcile.planner import plan
from tests.unit.reconcile.world import (
    H100,
    L4,
    World,
    condition,
    ensured_kinds,
    event_reasons,
    expect_condition,
    pod_actions,
    verbs,
    world,
)

# --- too few free GPUs -------------------------------------------------------------------


def test_too_few_free_gpus_creates_what_fits_and_says_what_is_missing() -> None:
    the_world = world().with_nodes(1, gpus=8).with_busy_gpus(4).deployment(replicas=2)

    result = plan(the_world.obj())

    assert verbs(result) == ["create"]
    scheduled = expect_condition(result, "Scheduled", "False", reasons.INSUFFICIENT_GPU)
    assert scheduled.message == (
        f"2 replicas need 8 GPUs of {H100}; 4 are free: 1 created, 1 waiting for GPUs. "
        f"Add nodes with {H100} or lower spec.replicas"
    )
    expect_condition(result, "Progressing", "True", reasons.REPLICAS_STARTING)
    (warning,) = [e for e in result.events if e.reason == reasons.INSUFFICIENT_GPU]
    assert warning.type == "Warning"
    assert warning.message.startswith("Scheduled is False: 2 replicas need 8 GPUs")


def test_free_gpus_scattered_over_nodes_hold_no_replica() -> None:
    the_world = (
        world()
        .with_nodes(2, gpus=8)
        .with_busy_gpus(4, node=0)
        .with_busy_gpus(4, node=1)
        .deployment(replicas=2)
        .with_ready_pods(1)
    )
    # node-0 holds the ready replica: 0 free there, 4 on node-1 -> room for exactly one.
    assert verbs(plan(the_world.obj())) == ["create"]

    scattered = world().with_nodes(2, gpus=8).with_busy_gpus(6, node=0).with_busy_gpus(6, node=1)
    result = plan(scattered.deployment(replicas=1, **{"gpu.tensorParallelSize": 4}).obj())

    assert verbs(result) == []
    scheduled = expect_condition(result, "Scheduled", "False", reasons.INSUFFICIENT_GPU)
    assert "4 are free but hold 0 (4 on one node per replica)" in scheduled.message


def test_pending_unschedulable_pods_are_kept_not_churned() -> None:
    the_world = (
        world()
        .with_nodes(1, gpus=8)
        .with_busy_gpus(4)
        .deployment(replicas=2)
        .with_ready_pods(1)
        .with_pending_pods(1)
    )

    result = plan(the_world.obj())

    assert pod_actions(result) == []
    scheduled = expect_condition(result, "Scheduled", "False", reasons.INSUFFICIENT_GPU)
    assert scheduled.message.startswith(
        f"1 replica needs 4 GPUs of {H100}; 0 are free: 0 created, 1 waiting for GPUs"
    )
    expect_condition(result, "Progressing", "False", reasons.INSUFFICIENT_GPU)
    assert result.status.replicas == 2


def test_a_pending_pod_that_now_has_room_is_left_to_the_scheduler() -> None:
    the_world = world().with_nodes(2, gpus=8).deployment(replicas=2).with_ready_pods(1)
    the_world.with_pending_pods(1)  # room on the nodes: the scheduler will bind it

    result = plan(the_world.obj())

    assert pod_actions(result) == []
    expect_condition(result, "Scheduled", "True", reasons.SCHEDULED_OK)
    progressing = expect_condition(result, "Progressing", "True", reasons.REPLICAS_STARTING)
    assert progressing.message == "1 of 2 replicas ready, 1 waiting for a node"


def test_the_replica_that_waits_for_gpus_is_created_when_a_node_comes() -> None:
    short = world().with_nodes(1, gpus=4).deployment(replicas=2).with_ready_pods(1)
    first = plan(short.obj())
    assert verbs(first) == []
    expect_condition(first, "Scheduled", "False", reasons.INSUFFICIENT_GPU)

    grown = short.with_nodes(1, gpus=4).after(first).later(30)
    result = plan(grown.obj())

    assert verbs(result) == ["create"]
    expect_condition(result, "Scheduled", "True", reasons.SCHEDULED_OK)
    assert event_reasons(result) == [reasons.CREATED, reasons.SCHEDULED_OK]


# --- layouts the cluster cannot run ------------------------------------------------------


@pytest.mark.parametrize(
    ("the_world", "reason", "layout", "words"),
    [
        pytest.param(
            world().with_nodes(2, gpus=8).model("llama3.1-405b-instruct").deployment(replicas=1),
            reasons.MULTI_NODE_UNSUPPORTED,
            (8, 2, H100),
            "405B in bfloat16 needs 2 nodes (TP 8 × PP 2); "
            "multi-node replicas are not supported yet",
            id="405B in bfloat16 spans 2 H100 nodes",
        ),
        pytest.param(
            world().with_nodes(3, gpus=1, product=L4).deployment(replicas=1),
            reasons.NO_FITTING_GPU,
            (1, 8, L4),
            "70B in bfloat16 needs TP 1 × PP 8 on NVIDIA-L4 over 8 nodes of 1 GPU; "
            "3 such nodes are usable",
            id="70B on three 1-GPU L4 nodes would need 8 of them",
        ),
        pytest.param(
            world().with_nodes(8, gpus=1, product=L4).deployment(replicas=1),
            reasons.MULTI_NODE_UNSUPPORTED,
            (1, 8, L4),
            "70B in bfloat16 needs 8 nodes (TP 1 × PP 8)",
            id="70B on eight 1-GPU L4 nodes spans them all",
        ),
        pytest.param(
            world().with_nodes(2, gpus=1, product=L4).model("llama3.1-405b-instruct"),
            reasons.NO_FITTING_GPU,
            (1, 16, L4),
            "it does not fit NVIDIA-L4. Use GPUs with more memory",
            id="405B fits no L4 layout at all",
        ),
        pytest.param(
            world().with_nodes(2, gpus=8).deployment(**{"gpu.product": "H200"}),
            reasons.NO_FITTING_GPU,
            (2, 1, "NVIDIA-H200"),
            "no usable node has NVIDIA-H200; usable nodes have NVIDIA-H100-80GB-HBM3",
            id="the GPU product asked for is not in the cluster",
        ),
        pytest.param(
            world().deployment(replicas=1),
            reasons.NO_FITTING_GPU,
            None,
            "no usable GPU node: the cluster has no nodes",
            id="no GPU node at all",
        ),
    ],
)
def test_a_layout_the_cluster_cannot_run_creates_nothing_and_shows_the_plan(
    the_world: World, reason: str, layout: tuple[int, int, str] | None, words: str
) -> None:
    result = plan(the_world.without_children().obj())

    assert pod_actions(result) == []
    assert ensured_kinds(result) == ["Service", "PodDisruptionBudget"], "made all the same"
    scheduled = expect_condition(result, "Scheduled", "False", reason)
    assert words in scheduled.message
    expect_condition(result, "Progressing", "False", reason)
    placement = result.status.placement
    shown = (
        None
        if placement is None
        else (
            placement.tensor_parallel_size,
            placement.pipeline_parallel_size,
            placement.gpu_product,
        )
    )
    assert shown == layout
    assert [e.reason for e in result.events if e.type == "Warning"] == [reason]


def test_existing_pods_are_left_alone_when_the_layout_cannot_run() -> None:
    on_the_old_layout = {"gpus": 4, "template_hash": "0ld0000000"}
    the_world = (
        world()
        .with_nodes(2, gpus=8)
        .model("llama3.1-405b-instruct")
        .deployment(replicas=1)
        .with_ready_pods(2, **on_the_old_layout)
        .with_failed_pods(1, **on_the_old_layout)
    )

    result = plan(the_world.obj())

    assert pod_actions(result) == []
    assert result.status.replicas == 3
    assert result.status.updated_replicas == 0


# --- specs the planner cannot act on -----------------------------------------------------


@pytest.mark.parametrize(
    ("the_world", "message"),
    [
        pytest.param(
            world().with_nodes(2).deployment(**{"engine.extraArgs": ["--port=9000"]}),
            "spec.engine.extraArgs: --port=9000: llamaops sets it from the spec; remove it",
            id="extraArgs sets --port",
        ),
        pytest.param(
            world()
            .with_nodes(2)
            .deployment(
                **{"engine.extraArgs": ["--enforce-eager", "-tp", "8", "--max_model_len=4"]}
            ),
            "spec.engine.extraArgs: -tp, --max_model_len=4: llamaops sets them from the spec",
            id="extraArgs sets -tp and --max_model_len",
        ),
        pytest.param(
            world().with_nodes(2).model("acme/mystery-13b"),
            "spec.model.name: 'acme/mystery-13b' is not in the model catalog",
            id="a model outside the catalog without its architecture",
        ),
        pytest.param(
            world().with_nodes(2).model("llama3.1-8b-instruct", max_model_len=1_000_000),
            "spec.model.maxModelLen: 1000000 exceeds the model's context length",
            id="maxModelLen beyond the model's context",
        ),
    ],
)
def test_an_invalid_spec_is_reported_and_nothing_is_done(the_world: World, message: str) -> None:
    result = plan(the_world.obj())

    assert result.actions == ()
    scheduled = expect_condition(result, "Scheduled", "False", reasons.INVALID_SPEC)
    assert scheduled.message.startswith(message)
    expect_condition(result, "Degraded", "True", reasons.INVALID_SPEC)
    expect_condition(result, "Progressing", "False", reasons.INVALID_SPEC)
    assert [(e.type, e.reason) for e in result.events] == [("Warning", reasons.INVALID_SPEC)]


def test_an_invalid_spec_leaves_running_replicas_alone_and_warns_once() -> None:
    running = world().with_nodes(2).deployment(replicas=1).with_ready_pods(2, in_flight=3)
    before = plan(running.obj())
    assert verbs(before) == ["drain"]

    broken = running.deployment(**{"engine.extraArgs": ["--dtype=half"]}).generation(2)
    first = plan(broken.after(before).obj())
    again = plan(broken.after(first).later(30).obj())

    assert first.actions == again.actions == ()
    assert event_reasons(first) == [reasons.INVALID_SPEC]
    assert again.events == ()
    assert again.status.replicas == 2
    assert again.status.observed_generation == 2
    degraded = condition(again, "Degraded")
    assert "the 2 replicas that exist are left as they are" in degraded.message


# --- the product, once chosen, stays -----------------------------------------------------


def mixed_cluster(replicas: int) -> World:
    """8B needs one GPU of either product: one node of 8 H100s, four nodes of one L4."""
    mixed = world().with_nodes(1, gpus=8).with_nodes(4, gpus=1, product=L4)
    return mixed.model("llama3.1-8b-instruct").deployment(replicas=replicas)


def test_own_replicas_filling_a_product_do_not_move_the_placement() -> None:
    first = plan(mixed_cluster(6).obj())
    assert first.status.placement is not None and first.status.placement.gpu_product == H100

    # Five replicas run on the H100 node: it has 3 GPUs left, the L4s 4. Chosen afresh,
    # the layout would move to the L4s and every running replica would look outdated.
    unanchored = plan(mixed_cluster(6).with_ready_pods(5).obj())
    anchored = plan(mixed_cluster(6).with_ready_pods(5).after(first).obj())

    assert unanchored.status.placement is not None
    assert unanchored.status.placement.gpu_product == L4
    assert anchored.status.placement is not None
    assert anchored.status.placement.gpu_product == H100
    assert anchored.status.updated_replicas == 5
    assert verbs(anchored) == ["create"]


def test_the_placement_moves_when_its_product_has_no_room_left() -> None:
    first = plan(mixed_cluster(8).obj())
    full = mixed_cluster(9).with_ready_pods(8).after(first)

    result = plan(full.obj())

    assert result.status.placement is not None and result.status.placement.gpu_product == L4
    assert verbs(result) == ["create"]
    expect_condition(result, "Scheduled", "True", reasons.SCHEDULED_OK)


def test_replicas_on_an_older_template_do_not_hold_the_placement() -> None:
    first = plan(mixed_cluster(6).obj())
    outdated = mixed_cluster(6).with_ready_pods(5, template_hash="0ld0000000").after(first)

    result = plan(outdated.obj())

    assert result.status.placement is not None and result.status.placement.gpu_product == L4
