"""Grafana dashboards for llamaops, built as code with grafana-foundation-sdk.

`python -m llamaops.dashboards [FOLDER]` writes them as JSON, by default into
`charts/llamaops/dashboards/`, where the Helm chart makes a ConfigMap of each file. The
committed JSON is this package's output: a unit test fails when the two drift apart.

The SDK is a development dependency: nothing in the operator imports this package.
"""
