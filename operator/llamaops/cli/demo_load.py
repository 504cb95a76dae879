"""The demo's load: a 120 s cycle that a newcomer can watch the autoscaler follow.

    0 s .. 10 s    3 requests a second: one replica carries it
   10 s .. 35 s   20 requests a second: the queue grows, replicas are added and load
   35 s .. 120 s   3 requests a second: after the scale-down window, extras drain and go;
                   at 75 s (demo.ROLL_AT) the deployment rolls to a new revision

Each request asks for 256 to 768 tokens: at --speed 10 a 70B replica on H100s answers one
in about a wall second, so with `--max-num-seqs 8` (the demo manifest's) one replica
carries about 8 requests a second and 20 a second needs three.
"""

CYCLE_SECONDS = 120.0
LOW_RATE, HIGH_RATE = 3.0, 20.0
HIGH_FROM, HIGH_UNTIL = 10.0, 35.0
OUTPUT_TOKENS = (256, 768)


def rate_at(seconds: float) -> float:
    """Requests per wall second, `seconds` after the traffic started."""
    into_cycle = seconds % CYCLE_SECONDS
    return HIGH_RATE if HIGH_FROM <= into_cycle < HIGH_UNTIL else LOW_RATE
