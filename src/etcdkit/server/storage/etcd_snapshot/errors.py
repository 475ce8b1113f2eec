"""Errors of etcd snapshot files.

Tree::

    SnapshotError
     └── SnapshotCorruptError          structurally damaged bbolt content
          ├── SnapshotNotBoltError      not a bbolt database at all
          ├── SnapshotTruncatedError    ends before its last page
          └── SnapshotHashMismatchError trailing SHA-256 does not match
"""

from __future__ import annotations

__all__ = [
    "SnapshotCorruptError",
    "SnapshotError",
    "SnapshotHashMismatchError",
    "SnapshotNotBoltError",
    "SnapshotTruncatedError",
]


class SnapshotError(Exception):
    """Base of every snapshot-file error."""


class SnapshotCorruptError(SnapshotError):
    """The file is damaged: its bbolt structure or etcd schema is invalid."""


class SnapshotNotBoltError(SnapshotCorruptError):
    """The file is not a bbolt database (nor a bbolt database plus SHA-256)."""


class SnapshotTruncatedError(SnapshotCorruptError):
    """The file ends before the pages its meta page claims."""


class SnapshotHashMismatchError(SnapshotCorruptError):
    """The trailing SHA-256 of a ``snapshot save`` file does not match its content."""
