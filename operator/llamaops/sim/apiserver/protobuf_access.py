"""Field tables for the access-control kinds kubectl sends as protobuf: ServiceAccount and
its TokenRequest (`kubectl create serviceaccount`, `kubectl create token`), the RBAC kinds
(`kubectl create role|rolebinding|clusterrole|clusterrolebinding`) and
SelfSubjectAccessReview (`kubectl auth can-i`).

Numbers from k8s.io/api core/v1, rbac/v1, authentication/v1 and authorization/v1
generated.proto; the shapes and rules are protobuf_kinds.py's.
"""

from llamaops.sim.apiserver.protobuf_kinds import (
    BOOL,
    INT,
    LIST,
    OBJECT_META,
    STRING,
    Field,
    Message,
    nested,
)

NAME_ONLY: Message = {1: Field("name", STRING)}
OBJECT_REFERENCE: Message = {
    1: Field("kind", STRING),
    2: Field("apiVersion", STRING),
    3: Field("name", STRING),
}

SERVICE_ACCOUNT: Message = {
    1: nested("metadata", OBJECT_META),
    2: nested("secrets", {1: Field("kind", STRING), 3: Field("name", STRING)}, LIST),
    3: nested("imagePullSecrets", NAME_ONLY, LIST),
    4: Field("automountServiceAccountToken", BOOL, keep_zero=True),
}

TOKEN_REQUEST: Message = {
    1: nested("metadata", OBJECT_META),
    2: nested(
        "spec",
        {
            1: Field("audiences", STRING, LIST),
            4: Field("expirationSeconds", INT, keep_zero=True),
            3: nested(
                "boundObjectRef",
                {
                    1: Field("kind", STRING),
                    2: Field("apiVersion", STRING),
                    3: Field("name", STRING),
                },
            ),
        },
    ),
}

POLICY_RULE: Message = {
    1: Field("verbs", STRING, LIST),
    2: Field("apiGroups", STRING, LIST),
    3: Field("resources", STRING, LIST),
    4: Field("resourceNames", STRING, LIST),
    5: Field("nonResourceURLs", STRING, LIST),
}
ROLE: Message = {1: nested("metadata", OBJECT_META), 2: nested("rules", POLICY_RULE, LIST)}
SUBJECT: Message = {
    1: Field("kind", STRING, keep_zero=True),
    2: Field("apiGroup", STRING),
    3: Field("name", STRING, keep_zero=True),
    4: Field("namespace", STRING),
}
ROLE_REF: Message = {
    1: Field("apiGroup", STRING, keep_zero=True),
    2: Field("kind", STRING, keep_zero=True),
    3: Field("name", STRING, keep_zero=True),
}
ROLE_BINDING: Message = {
    1: nested("metadata", OBJECT_META),
    2: nested("subjects", SUBJECT, LIST),
    3: nested("roleRef", ROLE_REF),
}

RESOURCE_ATTRIBUTES: Message = {
    1: Field("namespace", STRING),
    2: Field("verb", STRING),
    3: Field("group", STRING),
    4: Field("version", STRING),
    5: Field("resource", STRING),
    6: Field("subresource", STRING),
    7: Field("name", STRING),
}
NON_RESOURCE_ATTRIBUTES: Message = {1: Field("path", STRING), 2: Field("verb", STRING)}
SELF_SUBJECT_ACCESS_REVIEW: Message = {
    1: nested("metadata", OBJECT_META),
    2: nested(
        "spec",
        {
            1: nested("resourceAttributes", RESOURCE_ATTRIBUTES),
            2: nested(
                "nonResourceAttributes", {1: Field("path", STRING), 2: Field("verb", STRING)}
            ),
        },
    ),
}

RBAC = "rbac.authorization.k8s.io/v1"
ACCESS_KINDS: dict[tuple[str, str], Message] = {
    ("v1", "ServiceAccount"): SERVICE_ACCOUNT,
    ("authentication.k8s.io/v1", "TokenRequest"): TOKEN_REQUEST,
    (RBAC, "Role"): ROLE,
    (RBAC, "ClusterRole"): ROLE,  # its aggregationRule (3) is not modelled (rbac.py)
    (RBAC, "RoleBinding"): ROLE_BINDING,
    (RBAC, "ClusterRoleBinding"): ROLE_BINDING,
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): SELF_SUBJECT_ACCESS_REVIEW,
}
