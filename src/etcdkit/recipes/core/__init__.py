"""I/O-free cores of the recipes.

Each core is a plain state machine: the async shells feed it what happened
(answers, watch events, clock readings) and carry out what it decides. No
module here imports asyncio, grpc, time or random; time is always a
``now: float`` argument (monotonic seconds) so tests drive it by hand.
"""
