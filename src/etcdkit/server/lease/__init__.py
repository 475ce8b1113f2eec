"""Leases: the pure lessor core and the async expiry driver.

Contract: :class:`Lessor` mirrors the committed lease state (the apply loop calls
grant / revoke / attach / detach); renewals and expiry detection happen outside
the log; expired leases are revoked *through* the log by
:class:`ExpiryDriver`, so their keys disappear in one revision. This package
imports nothing from ``mvcc`` or ``rpc``: what it needs from the server is the
:class:`LeaseRevoker` protocol.
"""

from etcdkit.server.lease.lessor import MAX_LEASE_TTL, Lease, Lessor

__all__ = ["MAX_LEASE_TTL", "Lease", "Lessor"]
