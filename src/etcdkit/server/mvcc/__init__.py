"""Multi-version key-value store on the LMDB backend, with etcd's revision rules.

Contract:

* a fresh store is at revision 1; every write transaction that changes
  anything adds exactly one revision; changes inside it get sub-revisions in
  order; a transaction without changes does not move the revision;
* ``create_revision`` / ``mod_revision`` / ``version`` follow etcd: a delete
  writes a tombstone and ends the key's generation (version back to 0);
* history is kept until ``compact(rev)``, which keeps, for each key, the latest
  revision <= rev of the generation still alive at rev (etcd's keyIndex rules),
  so reads at exactly the compact revision still work;
* the ``key`` table holds etcd's own key-bucket bytes, so ``hash_kv`` equals
  etcd's HashKV for the same history.

The store knows nothing about leases: callers attach/detach using what
``WriteTxn.put`` / ``delete`` return.
"""

from etcdkit.server.mvcc.store import MVCCStore, WriteTxn

__all__ = ["MVCCStore", "WriteTxn"]
