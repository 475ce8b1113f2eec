"""Leases: the pure lessor core, the async expiry driver, and the lease-bound
coordination recipes (mutex and election) behind the Lock and Election services.

Contract: :class:`Lessor` mirrors the committed lease state (the apply loop calls
grant / revoke / attach / detach); renewals and expiry detection happen outside
the log; expired leases are revoked *through* the log by :class:`ExpiryDriver`,
so their keys disappear in one revision. The recipes (``mutex``, ``election``)
wait with watches (``watching``): watchers on the server's watch hub, or
polling of the store's history when the build has no hub. This package imports
nothing from ``mvcc``, ``watch`` or ``rpc``: what it needs from the server is
declared as protocols (``LeaseRevoker``, ``kv.KVServer``, ``watching.EventHub``).
"""

from etcdkit.server.lease.expiry import ExpiryDriver, LeaseRevoker
from etcdkit.server.lease.lessor import MAX_LEASE_TTL, Lease, Lessor

__all__ = ["MAX_LEASE_TTL", "ExpiryDriver", "Lease", "LeaseRevoker", "Lessor"]
