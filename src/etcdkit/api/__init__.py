"""The wire contract, no I/O: generated protobuf modules (``etcdkit.api.pb``),
the catalogue of etcd's wire errors (``errors``) and key-range helpers (``keys``).

Both the server and the client import from here; nothing here imports either.
"""
