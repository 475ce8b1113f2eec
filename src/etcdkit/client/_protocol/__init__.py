"""Sans-IO cores of the client: events in, decisions out.

Nothing here awaits, sleeps, reads the clock, draws random numbers or opens
a socket: time arrives as a ``now`` argument (seconds, any monotonic
origin) and randomness through an injected ``Callable[[], float]``. The
async driver in ``etcdkit.client`` feeds these cores and carries out what
they decide, so the hard logic (watch resume, endpoint choice, keep-alive
schedule, connection state) is tested without a server.

* ``watch_core``: per-stream watch bookkeeping and resume decisions;
* ``endpoints``: sticky endpoint choice, rotation, the revision floor;
* ``keepalive``: lease keep-alive schedule and loss detection;
* ``connection``: the CONNECTED / SUSPENDED / LOST state machine.
"""
