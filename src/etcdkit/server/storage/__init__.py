"""Durable storage: the LMDB backend (``backend``) and the write-ahead log (``wal``).

Invariants: the WAL holds every acknowledged request until a checkpoint has
made the LMDB state that includes it durable; the LMDB ``meta`` table records
the index of the last applied log entry in the same transaction as its effects.
"""
