"""bbolt database files in pure Python: a streaming reader and a bottom-up writer.

Contract: :class:`BoltReader` opens any bbolt (file format version 2) database
read-only and walks buckets lazily in key order; :func:`write_bolt` /
:class:`BoltWriter` write a new database from sorted input with memory bounded
by the tree height, which bbolt opens and whose ``Tx.Check`` passes. Damaged
input raises :class:`BoltFormatError` (a ``ValueError``). The format is
described in :mod:`.page`.
"""

from .page import BoltFormatError, BoltTruncatedError, Meta, NotBoltError, fnv1a64
from .reader import BoltReader, Bucket, Entry
from .writer import BoltWriter, BucketSource, write_bolt

__all__ = [
    "BoltFormatError",
    "BoltReader",
    "BoltTruncatedError",
    "BoltWriter",
    "Bucket",
    "BucketSource",
    "Entry",
    "Meta",
    "NotBoltError",
    "fnv1a64",
    "write_bolt",
]
