"""One reconcile of a LlamaDeployment: observe -> plan -> apply -> report.

`observed` and `plan_types` are the data that flows between the steps; `planner` decides
(pure), `rendering` builds the child objects (pure); the runtime in `llamaops.runtime`
observes, applies and reports.
"""
