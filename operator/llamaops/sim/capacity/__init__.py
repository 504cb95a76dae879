"""The capacity simulator behind `llamaops sim autoscale`: autoscaling policies replayed
against a trace on virtual time, on the local cluster's own engine model.

deployment  a manifest on a cluster file: the replica as the operator sizes it   pure
fleet       replicas: the simulated engine's Batcher, loading, draining
simulation  the discrete-event loop: arrivals, steps, ticks, Service routing
policies/   llamaops (imported), hpa-queue, keda, kubeai, static-peak, oracle
oracle      one replica's capacity at the SLO, and the hindsight schedule
traces      compact traces and the built-in shapes   pure
slo         MLPerf's Server targets   pure
results     GPU-hours, attainment and percentiles of one run   pure
run         a study: prepare the trace, run each policy (in processes)
report      the table and the JSON   pure
"""
