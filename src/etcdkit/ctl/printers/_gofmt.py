"""Go formatting primitives that etcdctl's output depends on.

Pure functions reproducing the exact bytes of Go's ``strconv.Quote`` (``%q``),
``encoding/json`` string/bytes encoding, ``fmt`` ``%v`` of slices,
``github.com/dustin/go-humanize.Bytes`` and ``time.Duration.String``. Nothing
here does I/O or imports gRPC.
"""

from __future__ import annotations

__all__ = [
    "go_bytes_str",
    "go_compact_text",
    "go_duration",
    "go_json_bytes",
    "go_json_string",
    "go_quote",
    "go_slice",
    "humanize_bytes",
]

_SIMPLE_ESCAPES = {
    0x07: "\\a",
    0x08: "\\b",
    0x0C: "\\f",
    0x0A: "\\n",
    0x0D: "\\r",
    0x09: "\\t",
    0x0B: "\\v",
    0x5C: "\\\\",
    0x22: '\\"',
}


def _go_printable(ch: str) -> bool:
    """Approximates Go's ``strconv.IsPrint``: letters, marks, numbers, punctuation, symbols and ASCII space."""
    import unicodedata

    if ch == " ":
        return True
    return unicodedata.category(ch)[0] in "LMNPS"


def go_quote(data: bytes | str) -> str:
    """Return Go's ``strconv.Quote`` of ``data`` (``%q`` of a string made from bytes).

    Invalid UTF-8 bytes become ``\\xNN``; non-printable runes use ``\\uNNNN`` /
    ``\\UNNNNNNNN``; printable runes are kept as is.
    """
    raw = data.encode() if isinstance(data, str) else data
    out = ['"']
    i = 0
    n = len(raw)
    while i < n:
        b = raw[i]
        if b < 0x80:
            if b in _SIMPLE_ESCAPES:
                out.append(_SIMPLE_ESCAPES[b])
            elif b < 0x20 or b == 0x7F:
                out.append(f"\\x{b:02x}")
            else:
                out.append(chr(b))
            i += 1
            continue
        size = 2 if b >= 0xC0 else 0
        if b >= 0xE0:
            size = 3
        if b >= 0xF0:
            size = 4
        ch = None
        if size and i + size <= n:
            try:
                ch = raw[i : i + size].decode("utf-8")
            except UnicodeDecodeError:
                ch = None
        if ch is None or len(ch) != 1:
            out.append(f"\\x{b:02x}")
            i += 1
            continue
        cp = ord(ch)
        if _go_printable(ch):
            out.append(ch)
        elif cp < 0x10000:
            out.append(f"\\u{cp:04x}")
        else:
            out.append(f"\\U{cp:08x}")
        i += size
    out.append('"')
    return "".join(out)


def go_bytes_str(data: bytes) -> str:
    """Return ``string(data)`` as Go would write it to a stream (bytes kept; decoded leniently for Python I/O)."""
    return data.decode("utf-8", "surrogateescape")


_JSON_HEX = "0123456789abcdef"


def go_json_string(data: bytes | str) -> str:
    """Encode a Go string as ``encoding/json`` does: HTML-safe escaping, invalid UTF-8 as ``\\ufffd``."""
    text = data if isinstance(data, str) else data.decode("utf-8", "surrogateescape")
    out = ['"']
    for ch in text:
        cp = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif cp < 0x20 or ch in "<>&":
            if ch == "\n":
                out.append("\\n")
            elif ch == "\r":
                out.append("\\r")
            elif ch == "\t":
                out.append("\\t")
            else:
                out.append("\\u00" + _JSON_HEX[cp >> 4] + _JSON_HEX[cp & 0xF])
        elif cp in (0x2028, 0x2029):
            out.append(f"\\u{cp:04x}")
        elif 0xD800 <= cp <= 0xDFFF:
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_json_bytes(data: bytes) -> str:
    """Encode a Go ``[]byte`` as ``encoding/json`` does: a standard base64 string."""
    import base64

    return '"' + base64.b64encode(data).decode("ascii") + '"'


def go_compact_text(msg: object) -> str:
    """gogo's ``String()`` (compact text format) of a message with scalar fields: ``a:1 b:2 `` (trailing space)."""
    out = []
    for field, value in msg.ListFields():  # type: ignore[attr-defined]
        out.append(f"{field.name}:{value} ")
    return "".join(out)


def go_slice(items: list[str]) -> str:
    """``fmt`` ``%v`` of a ``[]string``: ``[a b c]``."""
    return "[" + " ".join(items) + "]"


def humanize_bytes(size: int) -> str:
    """``humanize.Bytes``: SI units, e.g. ``20 kB``, ``1.2 MB``, ``25 B``."""
    import math

    if size < 10:
        return f"{size} B"
    sizes = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
    e = math.floor(math.log(size) / math.log(1000))
    suffix = sizes[int(e)]
    val = math.floor(size / (1000**e) * 10 + 0.5) / 10
    return f"{val:.0f} {suffix}" if val >= 10 else f"{val:.1f} {suffix}"


def _fmt_frac(v: int, prec: int) -> tuple[str, int]:
    digits = []
    printed = False
    for _ in range(prec):
        digit = v % 10
        printed = printed or digit != 0
        if printed:
            digits.append(str(digit))
        v //= 10
    frac = "".join(reversed(digits))
    return ("." + frac if printed else ""), v


def go_duration(ns: int) -> str:
    """``time.Duration(ns).String()``: ``1.5s``, ``2m0s``, ``350µs``, ``0s``."""
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = -ns if neg else ns
    if u < 1_000_000_000:
        if u < 1_000:
            out = f"{u}ns"
        elif u < 1_000_000:
            frac, whole = _fmt_frac(u, 3)
            out = f"{whole}{frac}µs"
        else:
            frac, whole = _fmt_frac(u, 6)
            out = f"{whole}{frac}ms"
    else:
        frac, secs = _fmt_frac(u, 9)
        out = f"{secs % 60}{frac}s"
        mins = secs // 60
        if mins > 0:
            out = f"{mins % 60}m" + out
            hours = mins // 60
            if hours > 0:
                out = f"{hours}h" + out
    return "-" + out if neg else out
