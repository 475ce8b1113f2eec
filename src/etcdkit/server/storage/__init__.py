"""Durable storage and on-disk formats: the LMDB backend (``backend``), the
write-ahead log (``wal``), and etcd's bbolt snapshot files (``bbolt``,
``etcd_snapshot``).

Invariants: the WAL holds every acknowledged request until a checkpoint has
made the LMDB state that includes it durable; the LMDB ``meta`` table records
the index of the last applied log entry in the same transaction as its effects.
"""
