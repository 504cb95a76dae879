"""The operator's runtime: kopf handlers that observe, run the pure planner, apply and report."""
