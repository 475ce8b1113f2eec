"""Parsing of the line-oriented input ``txn`` and ``watch -i`` read from stdin.

``argify`` splits a line into arguments as etcdctl does (double-quoted parts are
Go-unquoted, single-quoted parts taken literally); ``parse_compare`` turns
``mod("k") > "3"`` into a ``Compare`` message. Errors raise ``ValueError``
with etcdctl's message.
"""

from __future__ import annotations

import re
from typing import Any, cast

__all__ = ["GoPanicError", "argify", "go_unquote", "parse_compare"]


class GoPanicError(Exception):
    """Input on which etcdctl panics (e.g. an unknown compare operator); the CLI reports it and exits 2."""

_ARG_RE = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|[^\'"\s]\S*[^\'"\s]?')
_ESC = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", '"': '"', "'": "'"}


def go_unquote(s: str) -> str:
    """Go's ``strconv.Unquote`` for double-quoted and back-quoted strings; ``ValueError`` if malformed."""
    if len(s) >= 2 and s[0] == s[-1] == "`":
        return s[1:-1]
    if len(s) < 2 or s[0] != '"' or s[-1] != '"':
        raise ValueError("invalid syntax")
    body = s[1:-1]
    out: list[str] = []
    raw = bytearray()

    def flush() -> None:
        if raw:
            out.append(raw.decode("utf-8", "surrogateescape"))
            raw.clear()

    i = 0
    while i < len(body):
        c = body[i]
        if c == '"':
            raise ValueError("invalid syntax")
        if c != "\\":
            flush()
            out.append(c)
            i += 1
            continue
        if i + 1 >= len(body):
            raise ValueError("invalid syntax")
        e = body[i + 1]
        if e in _ESC and e != "'":
            flush()
            out.append(_ESC[e])
            i += 2
        elif e == "x":
            raw.append(int(body[i + 2 : i + 4], 16))
            i += 4
        elif e in "01234567":
            raw.append(int(body[i + 1 : i + 4], 8))
            i += 4
        elif e in "uU":
            n = 4 if e == "u" else 8
            flush()
            out.append(chr(int(body[i + 2 : i + 2 + n], 16)))
            i += 2 + n
        else:
            raise ValueError("invalid syntax")
    flush()
    return "".join(out)


def argify(line: str) -> list[str]:
    """Split ``line`` into arguments the way etcdctl's ``argify`` does."""
    args = _ARG_RE.findall(line)
    out = []
    for a in args:
        if a.startswith("'"):
            out.append(a[1:-1].replace("\\'", "'"))
        elif a.startswith('"'):
            try:
                out.append(go_unquote(a))
            except ValueError:
                out.append("")
        else:
            out.append(a)
    return out


_QUOTED = r'("(?:[^"\\]|\\.)*"|`[^`]*`)'
_CMP_RE = re.compile(r"^\s*" + _QUOTED + r"\)\s*(\S+)\s*" + _QUOTED)
_RESULTS = {"=": 0, ">": 1, "<": 2, "!=": 3}
_TARGETS = {"ver": 0, "version": 0, "c": 1, "create": 1, "m": 2, "mod": 2, "val": 3, "value": 3, "lease": 4}


def parse_compare(line: str) -> Any:
    """``target("key") op "value"`` to a ``Compare``; raises ``ValueError`` with etcdctl's messages."""
    import os

    from etcdkit.api.pb import rpc_pb2
    from etcdkit.ctl.commands._args import go_parse_int

    target, paren, rest = line.partition("(")
    if not paren:
        raise ValueError(f"malformed comparison: {line}")
    m = _CMP_RE.match(rest)
    if m is None:
        raise ValueError(f'malformed comparison: {line}; got {target}("") ""')
    key, op, val = go_unquote(m.group(1)), m.group(2), go_unquote(m.group(3))
    if target not in _TARGETS:
        raise ValueError(f"malformed comparison: {line} (unknown target {target})")
    if op not in _RESULTS:
        raise GoPanicError("Unknown result op")
    cmp = rpc_pb2.Compare(key=os.fsencode(key), result=cast(Any, _RESULTS[op]), target=cast(Any, _TARGETS[target]))
    t = _TARGETS[target]
    try:
        if t == 0:
            cmp.version = go_parse_int(val)
        elif t == 1:
            cmp.create_revision = go_parse_int(val)
        elif t == 2:
            cmp.mod_revision = go_parse_int(val)
        elif t == 3:
            cmp.value = os.fsencode(val)
        else:
            raise GoPanicError("bad value")  # clientv3.Compare gets a string for a lease target
    except ValueError:
        raise ValueError(f"invalid txn compare request: {line}") from None
    return cmp
