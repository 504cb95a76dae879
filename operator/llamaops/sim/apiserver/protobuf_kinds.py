"""Field tables for the kinds whose Kubernetes protobuf bodies the emulator reads.

Numbers and JSON names come from k8s.io/api core/v1 and policy/v1 generated.proto and
k8s.io/apimachinery meta/v1, intstr and resource generated.proto. `keep_zero` marks the
fields whose zero value still shows in the JSON a Go client sends: pointers (present on the
wire only when set) and fields without `omitempty` (Container.name, ServicePort.port).
Fields absent from a table are skipped when read, as protobuf skips unknown fields.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum


class Shape(Enum):
    """What one value on the wire becomes in JSON."""

    STRING = "string"
    BYTES = "bytes"  # base64 in JSON
    INT = "int"  # any varint integer: int32, int64
    BOOL = "bool"
    MESSAGE = "message"  # an object, from the field's own table
    TIME = "time"  # meta/v1 Time, as RFC 3339
    QUANTITY = "quantity"  # resource.Quantity, as its string
    INT_OR_STRING = "int-or-string"


class Count(Enum):
    ONE = "one"
    LIST = "list"  # repeated
    MAP = "map"  # map<string, shape>: repeated {1: key, 2: value} entries


STRING, BYTES, INT, BOOL = Shape.STRING, Shape.BYTES, Shape.INT, Shape.BOOL
MESSAGE, TIME, QUANTITY = Shape.MESSAGE, Shape.TIME, Shape.QUANTITY
INT_OR_STRING = Shape.INT_OR_STRING
ONE, LIST, MAP = Count.ONE, Count.LIST, Count.MAP


@dataclass(frozen=True)
class Field:
    name: str
    shape: Shape
    count: Count = ONE
    keep_zero: bool = False
    message: "Message | None" = None


Message = Mapping[int, Field]


def nested(name: str, message: Message, count: Count = ONE) -> Field:
    return Field(name, MESSAGE, count, message=message)


# --- apimachinery ------------------------------------------------------------------------
TIME_FIELDS: Message = {1: Field("seconds", INT), 2: Field("nanos", INT)}
QUANTITY_FIELDS: Message = {1: Field("string", STRING)}
INT_OR_STRING_FIELDS: Message = {
    1: Field("type", INT),
    2: Field("intVal", INT),
    3: Field("strVal", STRING),
}

OWNER_REFERENCE: Message = {
    5: Field("apiVersion", STRING, keep_zero=True),
    1: Field("kind", STRING, keep_zero=True),
    3: Field("name", STRING, keep_zero=True),
    4: Field("uid", STRING, keep_zero=True),
    6: Field("controller", BOOL, keep_zero=True),
    7: Field("blockOwnerDeletion", BOOL, keep_zero=True),
}

OBJECT_META: Message = {
    1: Field("name", STRING),
    2: Field("generateName", STRING),
    3: Field("namespace", STRING),
    4: Field("selfLink", STRING),
    5: Field("uid", STRING),
    6: Field("resourceVersion", STRING),
    7: Field("generation", INT),
    8: Field("creationTimestamp", TIME),
    9: Field("deletionTimestamp", TIME),
    10: Field("deletionGracePeriodSeconds", INT, keep_zero=True),
    11: Field("labels", STRING, MAP),
    12: Field("annotations", STRING, MAP),
    13: nested("ownerReferences", OWNER_REFERENCE, LIST),
    14: Field("finalizers", STRING, LIST),
    # 17 managedFields: the server owns them; skipped.
}

LABEL_SELECTOR: Message = {
    1: Field("matchLabels", STRING, MAP),
    2: nested(
        "matchExpressions",
        {
            1: Field("key", STRING, keep_zero=True),
            2: Field("operator", STRING, keep_zero=True),
            3: Field("values", STRING, LIST),
        },
        LIST,
    ),
}

# --- core/v1 -----------------------------------------------------------------------------
NAMESPACE: Message = {
    1: nested("metadata", OBJECT_META),
    2: nested("spec", {1: Field("finalizers", STRING, LIST)}),
    3: nested("status", {1: Field("phase", STRING)}),
}

CONFIG_MAP: Message = {
    1: nested("metadata", OBJECT_META),
    2: Field("data", STRING, MAP),
    3: Field("binaryData", BYTES, MAP),
    4: Field("immutable", BOOL, keep_zero=True),
}

SECRET: Message = {
    1: nested("metadata", OBJECT_META),
    2: Field("data", BYTES, MAP),
    3: Field("type", STRING),
    4: Field("stringData", STRING, MAP),
    5: Field("immutable", BOOL, keep_zero=True),
}

SERVICE_PORT: Message = {
    1: Field("name", STRING),
    2: Field("protocol", STRING),
    6: Field("appProtocol", STRING, keep_zero=True),
    3: Field("port", INT, keep_zero=True),
    4: Field("targetPort", INT_OR_STRING),  # 0 and "" mean "same as port"
    5: Field("nodePort", INT),
}

SERVICE_SPEC: Message = {
    1: nested("ports", SERVICE_PORT, LIST),
    2: Field("selector", STRING, MAP),
    3: Field("clusterIP", STRING),
    18: Field("clusterIPs", STRING, LIST),
    4: Field("type", STRING),
    5: Field("externalIPs", STRING, LIST),
    7: Field("sessionAffinity", STRING),
    8: Field("loadBalancerIP", STRING),
    9: Field("loadBalancerSourceRanges", STRING, LIST),
    10: Field("externalName", STRING),
    11: Field("externalTrafficPolicy", STRING),
    12: Field("healthCheckNodePort", INT),
    13: Field("publishNotReadyAddresses", BOOL),
    19: Field("ipFamilies", STRING, LIST),
    17: Field("ipFamilyPolicy", STRING, keep_zero=True),
    20: Field("allocateLoadBalancerNodePorts", BOOL, keep_zero=True),
    21: Field("loadBalancerClass", STRING, keep_zero=True),
    22: Field("internalTrafficPolicy", STRING, keep_zero=True),
    23: Field("trafficDistribution", STRING, keep_zero=True),
}

SERVICE: Message = {
    1: nested("metadata", OBJECT_META),
    2: nested("spec", SERVICE_SPEC),
    3: nested("status", {}),  # set by the server
}

CONTAINER_PORT: Message = {
    1: Field("name", STRING),
    2: Field("hostPort", INT),
    3: Field("containerPort", INT, keep_zero=True),
    4: Field("protocol", STRING),
    5: Field("hostIP", STRING),
}

ENV_VAR: Message = {1: Field("name", STRING, keep_zero=True), 2: Field("value", STRING)}

RESOURCE_REQUIREMENTS: Message = {
    1: Field("limits", QUANTITY, MAP),
    2: Field("requests", QUANTITY, MAP),
}

CONTAINER: Message = {
    1: Field("name", STRING, keep_zero=True),
    2: Field("image", STRING),
    3: Field("command", STRING, LIST),
    4: Field("args", STRING, LIST),
    5: Field("workingDir", STRING),
    6: nested("ports", CONTAINER_PORT, LIST),
    7: nested("env", ENV_VAR, LIST),
    8: nested("resources", RESOURCE_REQUIREMENTS),
    13: Field("terminationMessagePath", STRING),
    20: Field("terminationMessagePolicy", STRING),
    14: Field("imagePullPolicy", STRING),
    16: Field("stdin", BOOL),
    17: Field("stdinOnce", BOOL),
    18: Field("tty", BOOL),
}

TOLERATION: Message = {
    1: Field("key", STRING),
    2: Field("operator", STRING),
    3: Field("value", STRING),
    4: Field("effect", STRING),
    5: Field("tolerationSeconds", INT, keep_zero=True),
}

POD_SPEC: Message = {
    20: nested("initContainers", CONTAINER, LIST),
    2: nested("containers", CONTAINER, LIST),
    3: Field("restartPolicy", STRING),
    4: Field("terminationGracePeriodSeconds", INT, keep_zero=True),
    5: Field("activeDeadlineSeconds", INT, keep_zero=True),
    6: Field("dnsPolicy", STRING),
    7: Field("nodeSelector", STRING, MAP),
    8: Field("serviceAccountName", STRING),
    9: Field("serviceAccount", STRING),
    21: Field("automountServiceAccountToken", BOOL, keep_zero=True),
    10: Field("nodeName", STRING),
    11: Field("hostNetwork", BOOL),
    15: nested("imagePullSecrets", {1: Field("name", STRING)}, LIST),
    16: Field("hostname", STRING),
    17: Field("subdomain", STRING),
    19: Field("schedulerName", STRING),
    22: nested("tolerations", TOLERATION, LIST),
    24: Field("priorityClassName", STRING),
    25: Field("priority", INT, keep_zero=True),
    29: Field("runtimeClassName", STRING, keep_zero=True),
    30: Field("enableServiceLinks", BOOL, keep_zero=True),
}

POD: Message = {
    1: nested("metadata", OBJECT_META),
    2: nested("spec", POD_SPEC),
    3: nested("status", {1: Field("phase", STRING)}),
}

# --- policy/v1 ---------------------------------------------------------------------------
POD_DISRUPTION_BUDGET: Message = {
    1: nested("metadata", OBJECT_META),
    2: nested(
        "spec",
        {
            1: Field("minAvailable", INT_OR_STRING, keep_zero=True),
            2: nested("selector", LABEL_SELECTOR),
            3: Field("maxUnavailable", INT_OR_STRING, keep_zero=True),
            4: Field("unhealthyPodEvictionPolicy", STRING, keep_zero=True),
        },
    ),
    3: nested("status", {}),  # set by the disruption controller
}

# (apiVersion, kind) -> the object's table.
KINDS: Mapping[tuple[str, str], Message] = {
    ("v1", "Namespace"): NAMESPACE,
    ("v1", "ConfigMap"): CONFIG_MAP,
    ("v1", "Secret"): SECRET,
    ("v1", "Service"): SERVICE,
    ("v1", "Pod"): POD,
    ("policy/v1", "PodDisruptionBudget"): POD_DISRUPTION_BUDGET,
}
