"""What `llamaops run` leaves out of kopf's log. kopf says at INFO that each handler
succeeded; for the handlers that run on every watched event (`seen`: every version of
every LlamaDeployment, Service and budget) or on every resync tick (`resync`) that is a
line per event and says nothing (a failure is logged at ERROR all the same): 20,000 lines
while the fleet benchmark's 10,000 pods started. Those two lines are dropped, with
--verbose too (which still logs each handler's invocation at DEBUG)."""

import logging

ROUTINE = frozenset({"Handler 'seen' succeeded.", "Timer 'resync' succeeded."})
KOPF_OBJECTS = "kopf.objects"  # the logger kopf logs each object's handlers to


class Routine(logging.Filter):
    """Drops kopf's success lines of the handlers in ROUTINE."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in ROUTINE


def quiet_routine_handlers() -> None:
    """Install the filter (once) on kopf's object logger."""
    logger = logging.getLogger(KOPF_OBJECTS)
    if not any(isinstance(f, Routine) for f in logger.filters):
        logger.addFilter(Routine())
