"""Argument parsing and help text with cobra/pflag semantics (what etcdctl 3.4 uses).

Contract: ``parse(argv)`` finds the command the way cobra's ``Find`` does
(flags skipped with its ``stripFlags`` rules), then parses that command's
flags the way pflag does (interspersed flags, ``--`` ends flags, ``-abc``
bundles, ``--f=v`` / ``--f v``, bools never take a separate value) and returns
an ``Invocation``; user mistakes raise ``UsageError`` carrying cobra's exact
message. ``render_help`` prints etcdctl's help template through Go's tabwriter.
"""

from __future__ import annotations

from typing import Any

from etcdkit.ctl._spec import ROOT, Command, Flag

__all__ = [
    "Invocation", "UsageError", "find", "flag_value", "parse", "parse_flags", "render_help", "stock_usage", "suggest",
]

VERSION = "3.4.23"
API_VERSION = "3.4"
_HELP_FLAG_NAME = "help"


class UsageError(Exception):
    """A flag or command-line error; ``command`` is the command whose usage cobra prints."""

    def __init__(self, message: str, command: Command, show_usage: bool = True) -> None:
        super().__init__(message)
        self.command = command
        self.show_usage = show_usage


class Invocation:
    """Result of parsing: the command, its flag values, positional args and which flags were set."""

    def __init__(self, command: Command, values: dict[str, Any], args: list[str], changed: set[str] | None = None,
                 args_len_at_dash: int = -1, help: bool = False) -> None:
        self.command = command
        self.values = values
        self.args = args
        self.changed = changed if changed is not None else set()
        self.args_len_at_dash = args_len_at_dash
        self.help = help


def _all_flags(cmd: Command) -> list[Flag]:
    flags = list(cmd.flags) + list(cmd.persistent)
    p = cmd.parent
    while p is not None:
        flags.extend(p.persistent)
        p = p.parent
    return flags


def _help_flag(cmd: Command) -> Flag:
    return Flag(_HELP_FLAG_NAME, "bool", "false", f"help for {cmd.name}", "h")


def _go_parse_int(text: str, unsigned: bool) -> int:
    fn = "strconv.ParseUint" if unsigned else "strconv.ParseInt"
    s = text
    neg = False
    if not unsigned and s[:1] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    base = 10
    body = s
    if s[:2].lower() == "0x":
        base, body = 16, s[2:]
    elif s[:2].lower() == "0b":
        base, body = 2, s[2:]
    elif s[:2].lower() == "0o":
        base, body = 8, s[2:]
    elif len(s) > 1 and s[0] == "0":
        base, body = 8, s[1:]
    body = body.replace("_", "") if base != 10 or "_" not in body else body
    try:
        if not body or body[0] in "+-":
            raise ValueError
        val = int(body, base)
    except ValueError:
        raise ValueError(f'{fn}: parsing "{text}": invalid syntax') from None
    val = -val if neg else val
    lo, hi = (0, 2**64 - 1) if unsigned else (-(2**63), 2**63 - 1)
    if not lo <= val <= hi:
        raise ValueError(f'{fn}: parsing "{text}": value out of range')
    return val


_DUR_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9,
              "h": 3600 * 10**9}


def parse_duration(text: str) -> float:
    """Go's ``time.ParseDuration``; returns seconds. Raises ``ValueError`` with Go's message."""
    err = ValueError(f'time: invalid duration "{text}"')
    s = text
    neg = False
    if s[:1] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise err
    total = 0.0
    while s:
        i = 0
        while i < len(s) and (s[i].isdigit() or s[i] == "."):
            i += 1
        num = s[:i]
        if not num or num == ".":
            raise err
        s = s[i:]
        j = 0
        while j < len(s) and not (s[j].isdigit() or s[j] == "."):
            j += 1
        unit = s[:j]
        s = s[j:]
        if not unit:
            raise ValueError(f'time: missing unit in duration "{text}"')
        if unit not in _DUR_UNITS:
            raise ValueError(f'time: unknown unit "{unit}" in duration "{text}"')
        total += float(num) * _DUR_UNITS[unit]
    return (-total if neg else total) / 1e9


_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def flag_value(flag: Flag, text: str, current: Any = None, first: bool = True) -> Any:
    """Convert ``text`` for ``flag`` like pflag's ``Set``; ``ValueError`` carries Go's message."""
    if flag.kind == "bool":
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f'strconv.ParseBool: parsing "{text}": invalid syntax')
    if flag.kind == "int":
        return _go_parse_int(text, False)
    if flag.kind == "uint":
        return _go_parse_int(text, True)
    if flag.kind == "duration":
        return parse_duration(text)
    if flag.kind == "strings":
        items = [] if text == "" else [p.strip('"') for p in text.split(",")]
        return items if first else list(current or []) + items
    return text


def _defaults(flags: list[Flag]) -> dict[str, Any]:
    return {f.name: flag_value(f, f.default) if f.default or f.kind in ("string", "strings") else None
            for f in flags}


def _strip_flags(args: list[str], cmd: Command) -> list[str]:
    """cobra's stripFlags: the non-flag args, skipping values of flags that (may) take one."""
    flags = {f.name: f for f in _all_flags(cmd)}
    shorts = {f.short: f for f in _all_flags(cmd) if f.short}
    out: list[str] = []
    i = 0
    while i < len(args):
        s = args[i]
        i += 1
        if s == "--":
            break
        if s.startswith("--") and "=" not in s:
            f = flags.get(s[2:])
            if s[2:] != _HELP_FLAG_NAME and (f is None or f.kind != "bool"):
                i += 1
        elif s.startswith("-") and "=" not in s and len(s) == 2:
            f = shorts.get(s[1:])
            if s[1:] != "h" and (f is None or f.kind != "bool"):
                i += 1
        elif not s.startswith("-"):
            out.append(s)
    return out


def _find_next(cmd: Command, name: str) -> Command | None:
    exact = cmd.child(name)
    if exact is not None:
        return exact
    matches = [c for c in cmd.children if c.name.startswith(name)]  # cobra.EnablePrefixMatching
    return matches[0] if len(matches) == 1 else None


def find(argv: list[str]) -> tuple[Command, list[str]]:
    """cobra's Find: descend into the sub-command named by the first non-flag arg, recursively.

    Raises ``UsageError`` (without usage) for an unknown command at the root, as cobra's legacyArgs does.
    """
    cmd = ROOT
    rest = list(argv)
    while True:
        plain = _strip_flags(rest, cmd)
        nxt = _find_next(cmd, plain[0]) if plain and cmd.children else None
        if nxt is None:
            break
        rest.remove(plain[0])
        cmd = nxt
    if cmd is ROOT:
        plain = _strip_flags(rest, cmd)
        if plain:
            hint = ""
            sugg = suggest(cmd, plain[0])
            if sugg:
                hint = "\n\nDid you mean this?\n" + "".join(f"\t{s}\n" for s in sugg)
            raise UsageError(f'unknown command "{plain[0]}" for "etcdctl"{hint}', cmd, show_usage=False)
    return cmd, rest


def parse(argv: list[str]) -> Invocation:
    """Find the command and parse its flags; raise ``UsageError`` on bad input."""
    cmd, rest = find(argv)
    return parse_flags(cmd, rest, [*_all_flags(cmd), _help_flag(cmd)])


def parse_flags(cmd: Command, rest: list[str], flags: list[Flag]) -> Invocation:
    """pflag's parse of ``rest`` against ``flags`` for ``cmd``; raise ``UsageError`` on bad input."""
    by_name = {f.name: f for f in flags}
    by_short = {f.short: f for f in flags if f.short}
    values = _defaults(flags)
    changed: set[str] = set()
    args: list[str] = []
    dash = -1

    def set_flag(f: Flag, text: str, shown: str) -> None:
        try:
            values[f.name] = flag_value(f, text, values.get(f.name), f.name not in changed)
        except ValueError as exc:
            raise UsageError(f'invalid argument "{text}" for "{shown}" flag: {exc}', cmd) from None
        changed.add(f.name)

    i = 0
    while i < len(rest):
        s = rest[i]
        i += 1
        if s == "--":
            dash = len(args)
            args.extend(rest[i:])
            break
        if not s.startswith("-") or s == "-":
            args.append(s)
            continue
        if s.startswith("--"):
            name, eq, val = s[2:].partition("=")
            if not name or name.startswith("-") or name.startswith("="):
                raise UsageError(f"bad flag syntax: {s}", cmd)
            f = by_name.get(name)
            if f is None:
                raise UsageError(f"unknown flag: --{name}", cmd)
            if eq:
                set_flag(f, val, f"--{name}")
            elif f.kind == "bool":
                set_flag(f, "true", f"--{name}")
            elif i < len(rest):
                set_flag(f, rest[i], f"--{name}")
                i += 1
            else:
                raise UsageError(f"flag needs an argument: --{name}", cmd)
            continue
        shorthands = s[1:]
        while shorthands:
            c = shorthands[0]
            f = by_short.get(c)
            if f is None:
                raise UsageError(f"unknown shorthand flag: {c!r} in -{shorthands}".replace(f"{c!r}", f"'{c}'"), cmd)
            shown = f"-{c}, --{f.name}"
            if len(shorthands) > 2 and shorthands[1] == "=":
                set_flag(f, shorthands[2:], shown)
                shorthands = ""
            elif f.kind == "bool":
                set_flag(f, "true", shown)
                shorthands = shorthands[1:]
            elif len(shorthands) > 1:
                set_flag(f, shorthands[1:], shown)
                shorthands = ""
            elif i < len(rest):
                set_flag(f, rest[i], shown)
                i += 1
                shorthands = ""
            else:
                raise UsageError(f"flag needs an argument: '{c}' in -{c}", cmd)
    return Invocation(cmd, values, args, changed, dash, bool(values.get(_HELP_FLAG_NAME)))


def _flag_usages(flags: list[Flag]) -> str:
    lines = []
    for f in sorted((f for f in flags if not f.hidden), key=lambda f: f.name):
        head = f"  -{f.short}, --{f.name}" if f.short else f"      --{f.name}"
        if f.kind == "bool":
            head += f"[={f.default}]"
        elif f.kind == "string":
            head += f'="{f.default}"'
        elif f.kind == "strings":
            head += f"=[{f.default}]"
        else:
            head += f"={f.default}"
        lines.append(f"{head}\t{f.help}\n")
    return "".join(lines)


def _leaves(cmd: Command, prefix: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for c in cmd.children:
        if c.hidden:
            continue
        name = f"{prefix}{c.name}"
        if c.children:
            out.extend(_leaves(c, name + " "))
        else:
            out.append((name, c.short))
    return out


def render_help(cmd: Command, with_help_flag: bool = True) -> str:
    """etcdctl's help/usage template for ``cmd`` (what ``--help`` and flag errors print)."""
    from etcdkit.ctl.printers._layout import tabwriter

    path = cmd.path()
    name = " ".join(path) if path else "etcdctl"
    args_part = cmd.use.split(" ", 1)[1] if " " in cmd.use else ""
    use = " ".join(["etcdctl", *path, *([args_part] if args_part else [])])
    out = f"NAME:\n\t{name} - {cmd.short}\n\nUSAGE:\n\t{use} [flags]\n"
    if cmd.parent is None:
        out += f"\nVERSION:\n\t{VERSION}\n"
    if cmd.children:
        out += f"\nAPI VERSION:\n\t{API_VERSION}\n\n\nCOMMANDS:\n"
        rows = _leaves(cmd, "") if cmd.parent is None else [(c.name, c.short) for c in cmd.children if not c.hidden]
        out += "".join(f"\t{n}\t{s}\n" for n, s in sorted(rows))
    if cmd.long:
        out += "\nDESCRIPTION:\n" + "".join(f"\t{line}\n" for line in cmd.long.split("\n"))
    local = list(cmd.flags) + list(cmd.persistent)
    if with_help_flag:
        local.append(_help_flag(cmd))
    if local:
        out += "\nOPTIONS:\n" + _flag_usages(local)
    inherited = [f for f in _all_flags(cmd) if f not in cmd.flags and f not in cmd.persistent]
    if inherited:
        out += "\nGLOBAL OPTIONS:\n" + _flag_usages(inherited)
    return tabwriter(out + "\n")


_PFLAG_TYPES = {"bool": "", "string": "string", "int": "int", "uint": "uint", "duration": "duration",
                "strings": "strings"}


def stock_usage(cmd: Command) -> str:
    """Cobra's default usage template with pflag's ``FlagUsages`` (used by etcdctl's txn sub-parsers)."""
    args_part = cmd.use.split(" ", 1)[1] if " " in cmd.use else ""
    flags = sorted([*cmd.flags, _help_flag(cmd)], key=lambda f: f.name)
    lines: list[str] = []
    for f in flags:
        if f.hidden:
            continue
        line = f"  -{f.short}, --{f.name}" if f.short else f"      --{f.name}"
        if _PFLAG_TYPES[f.kind]:
            line += " " + _PFLAG_TYPES[f.kind]
        usage = f.help
        if f.kind == "string" and f.default:
            usage += f' (default "{f.default}")'
        elif f.kind not in ("bool", "string") and f.default not in ("0", "", "0s"):
            usage += f" (default {f.default})"
        elif f.kind == "bool" and f.default == "true":
            usage += " (default true)"
        lines.append(line + "\x00" + usage)
    width = max(line.index("\x00") for line in lines)
    body = "\n".join(
        line[: line.index("\x00")] + " " * (width - line.index("\x00")) + "   " + line[line.index("\x00") + 1 :]
        for line in lines
    )
    return f"Usage:\n   {cmd.name} {args_part} [flags]\n\nFlags:\n{body}\n\n"


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca.lower() != cb.lower())))
        prev = cur
    return prev[-1]


def suggest(cmd: Command, typed: str) -> list[str]:
    """cobra's ``SuggestionsFor``: names within distance 2 or having ``typed`` as a prefix."""
    out = []
    for c in cmd.children:
        if c.name == "help":
            continue
        if _levenshtein(typed, c.name) <= 2 or c.name.lower().startswith(typed.lower()):
            out.append(c.name)
    return out
