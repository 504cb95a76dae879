"""The columns kube-apiserver prints for ServiceAccounts, RBAC bindings and Deployments.

Mirrors printServiceAccount, printRoleBinding, printClusterRoleBinding and
printDeployment in kubernetes' pkg/printers/internalversion/printers.go (always wide:
`priority: 1` marks the columns kubectl shows only with `-o wide`). Roles and
ClusterRoles have no printer there: the default Name and Created At.
"""

from datetime import datetime

from llamaops.sim.apiserver.columns import (
    AGE,
    NAME,
    WIDE,
    Cells,
    Obj,
    Printer,
    column,
    name_and_age,
)


def service_account_cells(account: Obj, now: datetime) -> Cells:
    name, age = name_and_age(account, now)
    return [name, len(account.get("secrets") or []), age]


SERVICE_ACCOUNT_PRINTER = Printer(
    (NAME, column("Secrets", type_="integer"), AGE), service_account_cells
)


def binding_cells(binding: Obj, now: datetime) -> Cells:
    name, age = name_and_age(binding, now)
    ref = binding.get("roleRef") or {}
    subjects = binding.get("subjects") or []

    def named(kind: str) -> str:
        return ", ".join(s.get("name", "") for s in subjects if s.get("kind") == kind)

    accounts = ", ".join(
        f"{s.get('namespace', '')}/{s.get('name', '')}"
        for s in subjects
        if s.get("kind") == "ServiceAccount"
    )
    role = f"{ref.get('kind', '')}/{ref.get('name', '')}"
    return [name, role, age, named("User"), named("Group"), accounts]


BINDING_PRINTER = Printer(
    (
        NAME,
        column("Role"),
        AGE,
        column("Users", priority=WIDE),
        column("Groups", priority=WIDE),
        column("ServiceAccounts", priority=WIDE),
    ),
    binding_cells,
)


def deployment_cells(deployment: Obj, now: datetime) -> Cells:
    name, age = name_and_age(deployment, now)
    spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    match = (spec.get("selector") or {}).get("matchLabels") or {}
    return [
        name,
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        age,
        ",".join(c.get("name", "") for c in containers),
        ",".join(c.get("image", "") for c in containers),
        ",".join(f"{k}={v}" for k, v in match.items()),
    ]


DEPLOYMENT_PRINTER = Printer(
    (
        NAME,
        column("Ready", "Number of the pod with ready state"),
        column(
            "Up-to-date",
            "Total number of non-terminated pods targeted by this deployment that have the "
            "desired template spec.",
            type_="integer",
        ),
        column(
            "Available",
            "Total number of available pods (ready for at least minReadySeconds) targeted by "
            "this deployment.",
            type_="integer",
        ),
        AGE,
        column("Containers", "Names of each container in the template.", priority=WIDE),
        column("Images", "Images referenced by each container in the template.", priority=WIDE),
        column("Selector", "Label selector for pods.", priority=WIDE),
    ),
    deployment_cells,
)
