"""Queue-depth autoscaling: the pure decision (`decision`), its window (`window`) and its
policy read from the spec (`policy`). The operator's loop and `llamaops sim autoscale`
both call `decide`; neither kopf nor the kubernetes client is imported here."""
