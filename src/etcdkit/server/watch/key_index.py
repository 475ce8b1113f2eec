"""Which watchers care about a key: cost grows with the matches, not the total.

Three structures, chosen by the shape of a watcher's range:

* single keys: ``dict[key, watchers]`` — one lookup;
* from-key ranges (``range_end == b"\\0"``): the distinct start keys, sorted —
  every start ``<= key`` matches, found by one bisection;
* bounded ranges ``[start, end)``: the distinct intervals sorted by start with a
  segment tree of the largest end over them (an interval tree laid out in an
  array). A stabbing query visits only subtrees whose largest end exceeds the
  key, so it costs O((m + 1) log n) for m matching intervals out of n.

Watchers sharing the same range share one entry (a group), so 10,000 watchers
on one prefix are one interval. The sorted arrays are rebuilt lazily on the
first query after a change (O(n log n) over *distinct* ranges).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

from etcdkit.api.keys import FROM_KEY

__all__ = ["KeyIndex"]

T = TypeVar("T", bound=Hashable)


class KeyIndex(Generic[T]):
    """Items registered under etcd ranges, queried by key."""

    def __init__(self) -> None:
        self._exact: dict[bytes, dict[T, None]] = {}
        self._from: dict[bytes, dict[T, None]] = {}
        self._bounded: dict[tuple[bytes, bytes], dict[T, None]] = {}
        self._size = 0
        # lazily rebuilt views
        self._from_starts: list[bytes] = []
        self._from_dirty = False
        self._iv_starts: list[bytes] = []
        self._iv_groups: list[dict[T, None]] = []
        self._iv_tree: list[bytes] = []  # max end per node; leaves at [width, 2*width)
        self._iv_width = 0
        self._iv_dirty = False

    def __len__(self) -> int:
        return self._size

    def add(self, item: T, key: bytes, range_end: bytes) -> None:
        """Register ``item`` under the etcd range ``(key, range_end)`` (non-empty range)."""
        if not range_end:
            self._exact.setdefault(key, {})[item] = None
        elif range_end == FROM_KEY:
            group = self._from.get(key)
            if group is None:
                group = self._from[key] = {}
                self._from_dirty = True
            group[item] = None
        else:
            iv = (key, range_end)
            bgroup = self._bounded.get(iv)
            if bgroup is None:
                bgroup = self._bounded[iv] = {}
                self._iv_dirty = True
            bgroup[item] = None
        self._size += 1

    def remove(self, item: T, key: bytes, range_end: bytes) -> bool:
        """Unregister ``item``; returns False (and changes nothing) if it was not there."""
        if not range_end:
            group = self._exact.get(key)
            if group is None or item not in group:
                return False
            del group[item]
            if not group:
                del self._exact[key]
        elif range_end == FROM_KEY:
            group = self._from.get(key)
            if group is None or item not in group:
                return False
            del group[item]
            if not group:
                del self._from[key]
                self._from_dirty = True
        else:
            iv = (key, range_end)
            group = self._bounded.get(iv)
            if group is None or item not in group:
                return False
            del group[item]
            if not group:
                del self._bounded[iv]
                self._iv_dirty = True
        self._size -= 1
        return True

    def match(self, key: bytes) -> Iterator[T]:
        """Every item whose range contains ``key``.

        Lazy: do not add or remove items while iterating (collect first).
        """
        group = self._exact.get(key)
        if group:
            yield from group
        if self._from:
            if self._from_dirty:
                self._from_starts = sorted(self._from)
                self._from_dirty = False
            starts = self._from_starts
            for i in range(bisect_right(starts, key)):
                yield from self._from[starts[i]]
        if self._bounded:
            for bgroup in self._stab(key):
                yield from bgroup

    def _rebuild_intervals(self) -> None:
        ivs = sorted(self._bounded)
        n = len(ivs)
        width = 1
        while width < n:
            width *= 2
        tree = [b""] * (2 * width)
        for i, (_, end) in enumerate(ivs):
            tree[width + i] = end
        for node in range(width - 1, 0, -1):
            left, right = tree[2 * node], tree[2 * node + 1]
            tree[node] = left if left >= right else right
        self._iv_starts = [s for s, _ in ivs]
        self._iv_groups = [self._bounded[iv] for iv in ivs]
        self._iv_tree = tree
        self._iv_width = width
        self._iv_dirty = False

    def _stab(self, key: bytes) -> Iterator[dict[T, None]]:
        if self._iv_dirty:
            self._rebuild_intervals()
        hi = bisect_right(self._iv_starts, key)  # candidates: intervals [0, hi) start <= key
        if hi == 0:
            return
        tree, width = self._iv_tree, self._iv_width
        stack = [(1, 0, width)]
        while stack:
            node, lo, span_end = stack.pop()
            if lo >= hi or tree[node] <= key:
                continue
            if node >= width:
                yield self._iv_groups[lo]
                continue
            mid = (lo + span_end) // 2
            stack.append((2 * node + 1, mid, span_end))
            stack.append((2 * node, lo, mid))
