"""Kubernetes protobuf bodies read into the JSON objects the emulator works on.

Bodies are built with the small encoder below (varints, length-delimited fields, maps as
repeated {1: key, 2: value} entries), except the regression cases: bytes kubectl v1.37
sent, captured with `kubectl -v=9`.
"""

from typing import Any

import pytest

from llamaops.sim.apiserver.protobuf import ProtobufError, decode

Obj = dict[str, Any]
MAGIC = b"k8s\x00"
VARINT, I64, LEN, I32 = 0, 1, 2, 5


# --- a tiny protobuf encoder ---------------------------------------------------------------
def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negatives as 64-bit two's complement, as Go writes int32/int64
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes([*out, value])


def tag(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def number(field: int, value: int) -> bytes:
    return tag(field, VARINT) + varint(value)


def raw(field: int, data: bytes) -> bytes:
    return tag(field, LEN) + varint(len(data)) + data


def text(field: int, value: str) -> bytes:
    return raw(field, value.encode())


def message(field: int, *parts: bytes) -> bytes:
    return raw(field, b"".join(parts))


def entries(field: int, mapping: dict[str, bytes]) -> bytes:
    """A map whose values are already encoded as field 2 of each entry."""
    return b"".join(message(field, text(1, key), value) for key, value in mapping.items())


def string_map(field: int, mapping: dict[str, str]) -> bytes:
    return entries(field, {key: text(2, value) for key, value in mapping.items()})


def bytes_map(field: int, mapping: dict[str, bytes]) -> bytes:
    return entries(field, {key: raw(2, value) for key, value in mapping.items()})


def quantities(field: int, mapping: dict[str, str]) -> bytes:
    return entries(field, {key: message(2, text(1, value)) for key, value in mapping.items()})


def metadata(*parts: bytes) -> bytes:
    return message(1, *parts)


def a_body(api_version: str, kind: str, *fields: bytes) -> bytes:
    """MAGIC + runtime.Unknown{typeMeta, raw, contentEncoding, contentType}, as kubectl sends."""
    type_meta = message(1, text(1, api_version), text(2, kind))
    return MAGIC + type_meta + raw(2, b"".join(fields)) + text(3, "") + text(4, "")


# --- what kubectl v1.37 sent -----------------------------------------------------------------
CAPTURED = [
    (
        "kubectl create namespace team-a",
        "6b3873000a0f0a02763112094e616d657370616365121e0a160a067465616d2d6112001a0022002a"
        "0032003800420012001a020a001a002200",
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "team-a"},
            "spec": {},
            "status": {},
        },
    ),
    (
        "kubectl create configmap settings --from-literal=a=b -n team-a",
        "6b3873000a0f0a0276311209436f6e6669674d617012280a1e0a0873657474696e677312001a0674"
        "65616d2d6122002a0032003800420012060a01611201621a002200",
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "team-a"},
            "data": {"a": "b"},
        },
    ),
    (
        "kubectl create secret generic hf-token --from-literal=token=abc",
        "6b3873000a0c0a0276311206536563726574122a0a180a0868662d746f6b656e12001a0022002a00"
        "320038004200120c0a05746f6b656e12036162631a001a002200",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "hf-token"},
            "data": {"token": "YWJj"},
        },
    ),
    (
        "kubectl create service clusterip web --tcp=8000:8000",
        "6b3873000a0d0a027631120753657276696365126c0a1f0a0377656212001a0022002a0032003800"
        "42005a0a0a03617070120377656212450a1e0a09383030302d38303030120354435018c03e220708"
        "0010c03e1a002800120a0a0361707012037765621a002209436c757374657249503a00420052005a"
        "00600068001a020a001a002200",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "ports": [
                    {"name": "8000-8000", "protocol": "TCP", "port": 8000, "targetPort": 8000}
                ],
                "selector": {"app": "web"},
                "type": "ClusterIP",
            },
            "status": {},
        },
    ),
    (
        "kubectl create pdb budget --selector=app=web --min-available=0",
        "6b3873000a200a09706f6c6963792f76311213506f6444697372757074696f6e427564676574123c"
        "0a160a0662756467657412001a0022002a0032003800420012160a06080010001a00120c0a0a0a03"
        "61707012037765621a0a080018002000280030001a002200",
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "budget"},
            "spec": {"minAvailable": 0, "selector": {"matchLabels": {"app": "web"}}},
            "status": {},
        },
    ),
]


@pytest.mark.parametrize(
    ("command", "body", "expected"), CAPTURED, ids=[case[0] for case in CAPTURED]
)
def test_what_kubectl_sent_reads_as_the_json_it_would_have_sent(
    command: str, body: str, expected: Obj
) -> None:
    assert decode(bytes.fromhex(body)) == expected


# --- each kind ---------------------------------------------------------------------------
def test_metadata_keeps_what_is_set_and_drops_the_empty_fields_go_always_writes() -> None:
    owner = message(
        13,
        text(5, "serving.llamaops.io/v1"),
        text(1, "LlamaDeployment"),
        text(3, "llama3"),
        text(4, "uid-1"),
        number(6, 1),
    )
    body = a_body(
        "v1",
        "ConfigMap",
        metadata(
            text(1, ""),
            text(2, "settings-"),
            text(3, "team-a"),
            text(5, ""),
            text(6, "42"),
            number(7, 3),
            message(8, number(1, 1_700_000_000), number(2, 5)),
            message(9),
            number(10, 0),
            string_map(11, {"app": "web", "tier": ""}),
            string_map(12, {"note": "x"}),
            owner,
            text(14, "a/b"),
            text(14, "c/d"),
            message(17, text(1, "kubectl"), text(2, "Update")),
        ),
    )

    assert decode(body)["metadata"] == {
        "generateName": "settings-",
        "namespace": "team-a",
        "resourceVersion": "42",
        "generation": 3,
        "creationTimestamp": "2023-11-14T22:13:20Z",
        "deletionGracePeriodSeconds": 0,
        "labels": {"app": "web", "tier": ""},
        "annotations": {"note": "x"},
        "ownerReferences": [
            {
                "apiVersion": "serving.llamaops.io/v1",
                "kind": "LlamaDeployment",
                "name": "llama3",
                "uid": "uid-1",
                "controller": True,
            }
        ],
        "finalizers": ["a/b", "c/d"],
    }


def test_a_namespace_carries_its_spec_finalizers() -> None:
    body = a_body("v1", "Namespace", metadata(text(1, "team-a")), message(2, text(1, "kubernetes")))

    assert decode(body) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "team-a"},
        "spec": {"finalizers": ["kubernetes"]},
    }


def test_a_config_map_shows_binary_data_as_base64_and_keeps_immutable_false() -> None:
    body = a_body(
        "v1",
        "ConfigMap",
        metadata(text(1, "settings")),
        string_map(2, {"a": "b", "empty": ""}),
        bytes_map(3, {"blob": b"\x00\xff\x10"}),
        number(4, 0),
    )

    assert decode(body) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings"},
        "data": {"a": "b", "empty": ""},
        "binaryData": {"blob": "AP8Q"},
        "immutable": False,
    }


def test_a_secret_shows_data_as_base64_beside_its_type_and_string_data() -> None:
    body = a_body(
        "v1",
        "Secret",
        metadata(text(1, "hf-token")),
        bytes_map(2, {"token": b"abc", "raw": b"\xc3\x28"}),
        text(3, "Opaque"),
        string_map(4, {"plain": "text"}),
        number(5, 1),
    )

    assert decode(body) == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "hf-token"},
        "data": {"token": "YWJj", "raw": "wyg="},
        "type": "Opaque",
        "stringData": {"plain": "text"},
        "immutable": True,
    }


def test_a_service_reads_named_and_numbered_target_ports() -> None:
    def port(*parts: bytes) -> bytes:
        return message(1, *parts)

    named = port(
        text(1, "http"),
        text(2, "TCP"),
        number(3, 80),
        message(4, number(1, 1), text(3, "web")),
        number(5, 30080),
    )
    unset = port(text(1, ""), number(3, 9000), message(4, number(1, 0), number(2, 0), text(3, "")))
    body = a_body(
        "v1",
        "Service",
        metadata(text(1, "web")),
        message(
            2,
            named,
            unset,
            string_map(2, {"app": "web"}),
            text(3, "None"),
            text(4, "NodePort"),
            text(18, "None"),
            text(17, "SingleStack"),
            number(20, 0),
        ),
    )

    assert decode(body)["spec"] == {
        "ports": [
            {"name": "http", "protocol": "TCP", "port": 80, "targetPort": "web", "nodePort": 30080},
            {"port": 9000},
        ],
        "selector": {"app": "web"},
        "clusterIP": "None",
        "type": "NodePort",
        "clusterIPs": ["None"],
        "ipFamilyPolicy": "SingleStack",
        "allocateLoadBalancerNodePorts": False,
    }


def test_a_pod_reads_the_common_spec_fields() -> None:
    container = message(
        2,
        text(1, "server"),
        text(2, "vllm/vllm-openai:v0.6"),
        text(3, "python"),
        text(3, "-m"),
        text(4, "--port=8000"),
        message(6, text(1, "http"), number(3, 8000), text(4, "TCP")),
        message(7, text(1, "HF_HOME"), text(2, "/cache")),
        message(7, text(1, "EMPTY"), text(2, "")),
        message(8, quantities(1, {"nvidia.com/gpu": "8"}), quantities(2, {"cpu": "500m"})),
        text(14, "IfNotPresent"),
    )
    spec = message(
        2,
        container,
        text(3, "Never"),
        number(4, 30),
        string_map(7, {"gpu": "h100"}),
        message(22, text(1, "gpu"), text(2, "Exists"), text(4, "NoSchedule")),
        number(25, -5),
    )
    body = a_body("v1", "Pod", metadata(text(1, "p")), spec, message(3, text(1, "")))

    assert decode(body) == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "containers": [
                {
                    "name": "server",
                    "image": "vllm/vllm-openai:v0.6",
                    "command": ["python", "-m"],
                    "args": ["--port=8000"],
                    "ports": [{"name": "http", "containerPort": 8000, "protocol": "TCP"}],
                    "env": [{"name": "HF_HOME", "value": "/cache"}, {"name": "EMPTY"}],
                    "resources": {
                        "limits": {"nvidia.com/gpu": "8"},
                        "requests": {"cpu": "500m"},
                    },
                    "imagePullPolicy": "IfNotPresent",
                }
            ],
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 30,
            "nodeSelector": {"gpu": "h100"},
            "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
            "priority": -5,
        },
        "status": {},
    }


def test_what_kubectl_run_would_send_reads_as_its_json() -> None:
    container = message(2, text(1, "p"), text(2, "busybox"), message(8))
    body = a_body(
        "v1",
        "Pod",
        metadata(text(1, "p"), string_map(11, {"run": "p"})),
        message(2, container, text(3, "Always"), text(6, "ClusterFirst")),
        message(3),
    )

    assert decode(body) == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "labels": {"run": "p"}},
        "spec": {
            "containers": [{"name": "p", "image": "busybox", "resources": {}}],
            "restartPolicy": "Always",
            "dnsPolicy": "ClusterFirst",
        },
        "status": {},
    }


# --- protobuf's own rules ----------------------------------------------------------------
def test_unknown_fields_of_every_wire_type_are_skipped_at_every_level() -> None:
    unknown = (
        number(99, 7)
        + tag(98, I64)
        + b"\x01" * 8
        + text(97, "ignored")
        + tag(96, I32)
        + b"\x02" * 4
        + number(95, 1 << 40)
    )
    type_meta = message(1, text(1, "v1"), unknown, text(2, "ConfigMap"))
    obj = metadata(unknown, text(1, "settings")) + unknown + string_map(2, {"a": "b"})
    body = MAGIC + type_meta + raw(2, obj) + unknown + text(4, "")

    assert decode(body) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings"},
        "data": {"a": "b"},
    }


def test_a_map_entry_without_its_value_holds_the_empty_value() -> None:
    body = a_body("v1", "Secret", message(2, text(1, "token")), message(4, text(1, "plain")))

    assert decode(body) == {
        "apiVersion": "v1",
        "kind": "Secret",
        "data": {"token": ""},
        "stringData": {"plain": ""},
    }


def test_the_last_of_a_repeated_singular_field_wins() -> None:
    body = a_body("v1", "Secret", text(3, "Opaque"), text(3, "kubernetes.io/tls"))

    assert decode(body)["type"] == "kubernetes.io/tls"


@pytest.mark.parametrize(
    ("body", "message_part"),
    [
        (b"{}", "magic"),
        (b"", "magic"),
        (a_body("apps/v1", "Deployment"), "kind Deployment of apiVersion apps/v1"),
        (a_body("v1", "Event"), "kind Event of apiVersion v1"),
        (MAGIC, "kind (none)"),
        (MAGIC + b"\x0a\x80", "truncated varint in runtime.Unknown"),
        (MAGIC + b"\x12\x05ab", "truncated field: 5 bytes declared, 2 left"),
        (MAGIC + b"\x12" + b"\xff" * 11, "varint longer than 10 bytes"),
        (MAGIC + tag(7, 3), "unsupported wire type 3 for field 7"),
        (MAGIC + b"\x00\x00", "field number 0"),
        (a_body("v1", "Secret", number(1, 5)), "Secret.metadata has wire type varint"),
        (a_body("v1", "Secret", metadata(text(7, "x"))), "Secret.metadata.generation"),
        (a_body("v1", "Secret", metadata(raw(1, b"\xff"))), "not valid UTF-8"),
        (MAGIC + message(1, text(1, "v1"), text(2, "Secret")) + text(3, "gzip"), "'gzip'"),
        (
            a_body("v1", "Secret", metadata(message(8, number(1, 1 << 62)))),
            "impossible time",
        ),
    ],
)
def test_unreadable_bodies_raise_a_one_line_protobuf_error(body: bytes, message_part: str) -> None:
    with pytest.raises(ProtobufError) as raised:
        decode(body)

    assert message_part in str(raised.value)
    assert "\n" not in str(raised.value)
    assert isinstance(raised.value, ValueError)
