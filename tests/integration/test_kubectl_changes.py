"""kubectl, the pinned binary, against the API emulator: `scale`, `patch`, `label`,
`annotate`, `delete`, `diff` and server-side dry runs change what they should.

Each test gets a fresh emulator and drives it only through kubectl subprocesses
(tests/integration/kubectl_helpers.py). Every command and its output is echoed,
and a dump of the emulator's objects follows each test, so a failure shows what
kubectl sent, what it printed and what the cluster held.
"""

import json
import re
import time

import pytest

from tests.integration.kubectl_helpers import (
    LLAMA,
    LLAMA3_70B,
    LLAMAS,
    Kubectl,
    manifest,
    not_found,
    row_named,
)
from tests.integration.kubectl_objects import engine_pod, llama
from tests.waiting import wait_until


# --- scale and patch ---------------------------------------------------------------------
def test_scale_sets_replicas_through_the_scale_subresource(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", LLAMA3_70B)

    assert kubectl("scale", "llama/llama3-70b", "--replicas=4") == f"{LLAMA}/llama3-70b scaled\n"

    assert kubectl.field("llama/llama3-70b", "{.spec.replicas}") == "4"
    assert kubectl.field("llama/llama3-70b", "{.spec.replicas}", "--subresource=scale") == "4"


def test_scale_with_a_stale_current_replicas_is_refused(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", LLAMA3_70B)

    refused = kubectl.fails("scale", "llama/llama3-70b", "--current-replicas=3", "--replicas=4")

    assert "Expected replicas to be 3, was 2" in refused.err
    assert kubectl.field("llama/llama3-70b", "{.spec.replicas}") == "2"


def test_merge_patch_changes_a_llama(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", LLAMA3_70B)

    kubectl(
        "patch",
        "llama",
        "llama3-70b",
        "--type=merge",
        "-p",
        '{"spec":{"replicas":3,"gpu":{"memoryUtilization":0.85}}}',
    )

    assert kubectl.field("llama/llama3-70b", "{.spec.replicas}") == "3"
    assert kubectl.field("llama/llama3-70b", "{.spec.gpu.memoryUtilization}") == "0.85"
    assert kubectl.field("llama/llama3-70b", "{.spec.gpu.product}") == "H100-80GB"


def test_json_patch_changes_a_llama_and_a_failing_test_op_changes_nothing(
    kubectl: Kubectl,
) -> None:
    kubectl("apply", "-f", LLAMA3_70B)

    kubectl(
        "patch",
        "llama",
        "llama3-70b",
        "--type=json",
        "-p",
        '[{"op":"test","path":"/spec/replicas","value":2},'
        '{"op":"replace","path":"/spec/replicas","value":6}]',
    )
    assert kubectl.field("llama/llama3-70b", "{.spec.replicas}") == "6"

    refused = kubectl.fails(
        "patch",
        "llama",
        "llama3-70b",
        "--type=json",
        "-p",
        '[{"op":"test","path":"/spec/replicas","value":2},'
        '{"op":"replace","path":"/spec/replicas","value":9}]',
    )
    assert refused.err.startswith("The request is invalid"), refused
    assert kubectl.field("llama/llama3-70b", "{.spec.replicas}") == "6"


@pytest.mark.parametrize("type_flag", [("--type=strategic",), ()], ids=["explicit", "default"])
def test_strategic_merge_patch_of_a_llama_is_refused_for_its_media_type(
    kubectl: Kubectl, type_flag: tuple[str, ...]
) -> None:
    kubectl("apply", "-f", LLAMA3_70B)

    refused = kubectl.fails(
        "patch", "llama", "llama3-70b", *type_flag, "-p", '{"spec":{"replicas":3}}'
    )

    assert refused.err == (
        "error: application/strategic-merge-patch+json is not supported by "
        "serving.llamaops.io/v1alpha1, Kind=LlamaDeployment: the body of the request was in "
        "an unknown format - accepted media types include: application/json-patch+json, "
        "application/merge-patch+json, application/apply-patch+yaml\n"
    )
    assert kubectl.field("llama/llama3-70b", "{.spec.replicas}") == "2"


def test_strategic_merge_patch_of_a_pod_merges_labels_and_containers_by_name(
    kubectl: Kubectl,
) -> None:
    kubectl.apply(engine_pod("engine-0"))

    kubectl(
        "patch",
        "pod",
        "engine-0",
        "--type=strategic",
        "-p",
        json.dumps(
            {
                "metadata": {"labels": {"tier": "gpu"}},
                "spec": {
                    "containers": [
                        {
                            "name": "vllm",
                            "env": [{"name": "VLLM_LOGGING_LEVEL", "value": "DEBUG"}],
                        },
                        {"name": "metrics", "image": "busybox:1.37"},
                    ]
                },
            }
        ),
    )

    pod = json.loads(kubectl("get", "pod", "engine-0", "-o", "json"))
    assert pod["metadata"]["labels"] == {"app": "vllm", "tier": "gpu"}
    containers = {c["name"]: c for c in pod["spec"]["containers"]}
    assert [c["name"] for c in pod["spec"]["containers"]] == ["vllm", "metrics"]
    assert containers["vllm"]["image"] == "vllm/vllm-openai:v0.11.0"
    assert {e["name"]: e["value"] for e in containers["vllm"]["env"]} == {
        "VLLM_LOGGING_LEVEL": "DEBUG",
        "VLLM_PORT": "8000",
    }
    assert containers["metrics"]["image"] == "busybox:1.37"


def test_client_side_apply_of_a_changed_pod_merges_its_containers_by_name(
    kubectl: Kubectl,
) -> None:
    kubectl.apply(engine_pod("engine-0"))
    kubectl("label", "pod", "engine-0", "added-by=hand")
    changed = engine_pod("engine-0")
    changed["spec"]["containers"][1]["image"] = "busybox:1.37"

    assert kubectl.apply(changed) == "pod/engine-0 configured\n"

    pod = json.loads(kubectl("get", "pod", "engine-0", "-o", "json"))
    assert [(c["name"], c["image"]) for c in pod["spec"]["containers"]] == [
        ("vllm", "vllm/vllm-openai:v0.11.0"),
        ("metrics", "busybox:1.37"),
    ]
    assert pod["metadata"]["labels"] == {"app": "vllm", "added-by": "hand"}


def test_label_and_annotate_change_and_remove_metadata(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", LLAMA3_70B)

    assert kubectl("label", "llama", "llama3-70b", "tier=gold") == f"{LLAMA}/llama3-70b labeled\n"
    assert kubectl("annotate", "llama", "llama3-70b", "owner=serving-team") == (
        f"{LLAMA}/llama3-70b annotated\n"
    )
    assert kubectl.field("llama/llama3-70b", "{.metadata.labels.tier}") == "gold"
    assert kubectl.field("llama/llama3-70b", "{.metadata.annotations.owner}") == "serving-team"

    refused = kubectl.fails("label", "llama", "llama3-70b", "tier=silver")
    assert "'tier' already has a value (gold), and --overwrite is false" in refused.err
    kubectl("label", "llama", "llama3-70b", "tier=silver", "--overwrite")
    assert kubectl.field("llama/llama3-70b", "{.metadata.labels.tier}") == "silver"

    kubectl("label", "llama", "llama3-70b", "tier-")
    kubectl("annotate", "llama", "llama3-70b", "owner-")
    labels = json.loads(kubectl.field("llama/llama3-70b", "{.metadata.labels}") or "{}")
    assert "tier" not in labels
    assert kubectl.field("llama/llama3-70b", "{.metadata.annotations.owner}") == ""


# --- delete ------------------------------------------------------------------------------
FINALIZER = "serving.llamaops.io/cleanup"
ADD_FINALIZER = json.dumps({"metadata": {"finalizers": [FINALIZER]}})
REMOVE_FINALIZERS = json.dumps([{"op": "remove", "path": "/metadata/finalizers"}])


def test_delete_waits_until_the_finalizer_is_removed(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", LLAMA3_70B)
    kubectl("patch", "llama/llama3-70b", "--type=merge", "-p", ADD_FINALIZER)

    with kubectl.start("delete", "llama", "llama3-70b", "--wait=true", "--timeout=15s") as delete:
        wait_until(
            lambda: kubectl.field("llama/llama3-70b", "{.metadata.deletionTimestamp}"),
            what="llama3-70b is marked for deletion",
        )
        time.sleep(0.5)  # time enough for a delete that does not wait to have returned
        assert delete.is_running(), "delete must wait while the finalizer is there"
        assert kubectl.field("llama/llama3-70b", "{.metadata.finalizers}") == f'["{FINALIZER}"]'

        kubectl("patch", "llama/llama3-70b", "--type=json", "-p", REMOVE_FINALIZERS)

        done = delete.finish(timeout=10)
    assert done.code == 0, done
    assert done.out == f'{LLAMA} "llama3-70b" deleted from default namespace\n'
    gone = kubectl.fails("get", "llama", "llama3-70b")
    assert gone.err == not_found(LLAMAS, "llama3-70b") + "\n"


def test_delete_without_waiting_returns_at_once_leaving_the_llama_terminating(
    kubectl: Kubectl,
) -> None:
    kubectl("apply", "-f", LLAMA3_70B)
    kubectl("patch", "llama/llama3-70b", "--type=merge", "-p", ADD_FINALIZER)

    deleted = kubectl.run("delete", "llama", "llama3-70b", "--wait=false")

    assert deleted.code == 0, deleted
    assert deleted.seconds < 3, deleted
    assert kubectl.field("llama/llama3-70b", "{.metadata.deletionTimestamp}")
    assert kubectl.field("llama/llama3-70b", "{.metadata.finalizers}") == f'["{FINALIZER}"]'
    assert row_named(kubectl("get", "llama"), "llama3-70b")


def test_create_namespace_then_delete_namespace_removes_it_and_its_objects(
    kubectl: Kubectl,
) -> None:
    assert kubectl("create", "namespace", "team-a") == "namespace/team-a created\n"
    kubectl.apply(llama("llama3-8b"), engine_pod("engine-0"), flags=("-n", "team-a"))

    kubectl("delete", "namespace", "team-a", "--timeout=15s")

    assert kubectl.fails("get", "ns", "team-a").err == not_found("namespaces", "team-a") + "\n"
    leftovers = kubectl.run("get", "llama,pods", "-n", "team-a", "-o", "name")
    assert (leftovers.code, leftovers.out) == (0, ""), "the namespace's objects must go with it"


def test_delete_namespace_removes_its_objects_before_the_namespace(kubectl: Kubectl) -> None:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-b"}}
    kubectl.apply(namespace)
    kubectl.apply(llama("llama3-8b"), engine_pod("engine-0"), flags=("-n", "team-b"))

    kubectl("delete", "namespace", "team-b", "--timeout=15s")

    assert kubectl.fails("get", "ns", "team-b").err == not_found("namespaces", "team-b") + "\n"
    leftovers = kubectl.run("get", "llama,pods", "-n", "team-b", "-o", "name")
    assert (leftovers.code, leftovers.out) == (0, ""), "the namespace's objects must go with it"


# --- diff and server-side dry runs ------------------------------------------------------
def test_diff_shows_a_changed_manifest_without_applying_it(kubectl: Kubectl) -> None:
    kubectl.apply(llama("llama3-8b", replicas=2))

    diff = kubectl.run("diff", "-f", "-", stdin=manifest(llama("llama3-8b", replicas=3)))

    assert diff.code == 1, f"kubectl diff exits 1 when there are differences:\n{diff}"
    assert re.search(r"^-  replicas: 2$", diff.out, re.M), diff.out
    assert re.search(r"^\+  replicas: 3$", diff.out, re.M), diff.out
    assert kubectl.field("llama/llama3-8b", "{.spec.replicas}") == "2", "diff must change nothing"
    assert kubectl.field("llama/llama3-8b", "{.metadata.generation}") == "1"


def test_apply_with_a_server_dry_run_changes_nothing(kubectl: Kubectl) -> None:
    kubectl.apply(llama("llama3-8b", replicas=2))

    dry_run = kubectl.apply(llama("llama3-8b", replicas=3), flags=("--dry-run=server",))

    assert dry_run == f"{LLAMA}/llama3-8b configured (server dry run)\n"
    assert kubectl.field("llama/llama3-8b", "{.spec.replicas}") == "2"


def test_delete_with_a_server_dry_run_deletes_nothing(kubectl: Kubectl) -> None:
    kubectl.apply(llama("llama3-8b"))

    dry_run = kubectl("delete", "llama", "llama3-8b", "--dry-run=server")

    assert dry_run == f'{LLAMA} "llama3-8b" deleted from default namespace (server dry run)\n'
    assert kubectl.field("llama/llama3-8b", "{.metadata.name}") == "llama3-8b"
    assert kubectl.field("llama/llama3-8b", "{.metadata.deletionTimestamp}") == ""
