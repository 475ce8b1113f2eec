"""etcd's KV semantics as plain functions over an MVCC transaction.

* ``validate``: request checks done before proposing (etcd's v3rpc checks):
  empty keys, sort enums, ignore_* flags, txn op budget, duplicate keys.
* ``kv``: Range / Put / DeleteRange / Txn applied to a ``WriteTxn`` (or read
  at a revision), returning responses whose header carries only ``revision``;
  the server fills the rest.

A ``LeaseView`` protocol is all these functions know about leases.
"""

from etcdkit.server.txn.kv import LeaseView, apply_delete_range, apply_put, apply_range, apply_txn
from etcdkit.server.txn.validate import check_delete, check_put, check_range, check_txn

__all__ = [
    "LeaseView",
    "apply_delete_range",
    "apply_put",
    "apply_range",
    "apply_txn",
    "check_delete",
    "check_put",
    "check_range",
    "check_txn",
]
