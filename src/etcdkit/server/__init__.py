"""The etcd v3 wire-compatible server.

Layers (imports go downward only): ``rpc`` (thin gRPC servicers) ->
``etcdserver`` (propose-and-wait, reads, status) -> ``node`` (WAL, apply loop)
-> ``apply`` / ``txn`` (KV semantics) -> ``watch``, ``mvcc``, ``lease`` ->
``storage`` (LMDB). See docs/architecture.md.
"""
