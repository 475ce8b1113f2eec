"""What a command handler gets: parsed flags, output streams, the client config and connection.

``Context.conn()`` mirrors etcdctl's ``clientConfigFromCmd``: it applies
``ETCDCTL_*`` environment variables to the inherited (global) flags not given
on the command line (warning about unknown ones, failing on conflicts), dumps
the settings under ``--debug``, validates ``--write-out`` and only then dials.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sys
from typing import TYPE_CHECKING, Any

from etcdkit.ctl._cli import Invocation, _all_flags, flag_value
from etcdkit.ctl._exit import EXIT_BAD_FEATURE, EXIT_ERROR, CtlError
from etcdkit.ctl.printers import FORMATS, Display, GoPanic, Unsupported
from etcdkit.ctl.printers._gofmt import go_duration

if TYPE_CHECKING:
    from etcdkit.ctl._conn import Connection, Settings

__all__ = ["Context", "capnslog"]


def capnslog(level: str, pkg: str, message: str) -> None:
    """Write a line in coreos/capnslog's format (``2006-01-02 15:04:05.000000 W | pkg: msg``) to stderr."""
    ts = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")
    sys.stderr.write(f"{ts} {level} | {pkg}: {message}\n")
    sys.stderr.flush()


def _env_name(flag_name: str) -> str:
    return "ETCDCTL_" + flag_name.upper().replace("-", "_")


class Context:
    """Per-invocation state shared by the command handlers."""

    def __init__(self, inv: Invocation) -> None:
        self.inv = inv
        self.values = inv.values
        self.args = inv.args
        self._conn: Connection | None = None
        self._settings: Settings | None = None
        self._display: Display | None = None

    # -- output ----------------------------------------------------------------------------------------------
    def out(self, text: str) -> None:
        """Write ``text`` (raw bytes surrogate-escaped) to stdout and flush."""
        sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
        sys.stdout.buffer.flush()

    def err(self, text: str) -> None:
        sys.stderr.buffer.write(text.encode("utf-8", "surrogateescape"))
        sys.stderr.buffer.flush()

    def flag(self, name: str) -> Any:
        return self.values.get(name)

    @property
    def display(self) -> Display:
        if self._display is None:
            fmt = self.values["write-out"]
            if fmt not in FORMATS:
                raise CtlError(EXIT_BAD_FEATURE, "unsupported output format")
            self._display = Display(fmt, bool(self.values["hex"]), bool(self.values.get("print-value-only")))
        return self._display

    def print(self, kind: str, *args: Any) -> None:
        """Render ``kind`` with the chosen printer and write it; unsupported formats exit 4 like etcdctl."""
        try:
            text = self.display.render(kind, *args)
        except Unsupported as exc:
            msg = str(exc) or f"{self.display.format} not supported as output format"
            raise CtlError(EXIT_BAD_FEATURE, msg) from None
        except GoPanic as exc:
            self.err(f"panic: {exc}\n")
            raise CtlError(2, None) from None
        self.out(text)

    # -- client config ---------------------------------------------------------------------------------------
    def settings(self) -> Settings:
        """The connection settings after applying ``ETCDCTL_*`` env vars (``clientConfigFromCmd``)."""
        if self._settings is not None:
            return self._settings
        from etcdkit.ctl._conn import Settings

        inherited = [f for f in _all_flags(self.inv.command)
                     if f not in self.inv.command.flags and f not in self.inv.command.persistent]
        used: set[str] = set()
        for f in inherited:
            env = _env_name(f.name)
            if env not in os.environ:
                continue
            used.add(env)
            if f.name in self.inv.changed:
                capnslog("C", "pkg/flags", f'conflicting environment variable "{env}" is shadowed by '
                         "corresponding command-line flag (either unset environment variable or disable flag)")
                raise CtlError(EXIT_ERROR, None)
            with contextlib.suppress(ValueError):  # etcdctl ignores unparsable env values
                self.values[f.name] = flag_value(f, os.environ[env])
        for key, val in os.environ.items():
            if key.startswith("ETCDCTL_") and key not in used and key != "ETCDCTL_API":
                capnslog("W", "pkg/flags", f"unrecognized environment variable {key}={val}")
        v = self.values
        if v["debug"]:
            for f in sorted(inherited, key=lambda f: f.name):
                self.err(f"{_env_name(f.name)}={self._flag_text(f.name, f.kind)}\n")
        _ = self.display
        user, password = v["user"], v["password"]
        if user and ":" in user and not password:  # with --password, --user is taken whole
            user, password = user.split(":", 1)
        elif user and not password:
            from etcdkit.ctl._prompt import ask_hidden

            password = ask_hidden(self.out, self.err, "Password: ")
        self._settings = Settings(
            endpoints=list(v["endpoints"]),
            dial_timeout=v["dial-timeout"],
            command_timeout=v["command-timeout"],
            keepalive_time=v["keepalive-time"],
            keepalive_timeout=v["keepalive-timeout"],
            insecure_transport=v["insecure-transport"],
            insecure_skip_tls_verify=v["insecure-skip-tls-verify"],
            cacert=v["cacert"],
            cert=v["cert"],
            key=v["key"],
            user=user,
            password=password,
        )
        return self._settings

    def _flag_text(self, name: str, kind: str) -> str:
        val: Any = self.values.get(name)
        if kind == "bool":
            return "true" if val else "false"
        if kind == "duration":
            return go_duration(round(float(val) * 1e9))
        if kind == "strings":
            return "[" + ",".join(val) + "]"
        return str(val)

    def conn(self, endpoint: str | None = None) -> Connection:
        """The shared connection (or a new one to ``endpoint``)."""
        from etcdkit.ctl._conn import Connection, RpcFailure

        settings = self.settings()
        conn = Connection(settings, endpoint) if endpoint is not None else self._conn or Connection(settings)
        if endpoint is None:
            self._conn = conn
        try:
            conn.authenticate()  # like clientv3.New: a bad user/password fails the client (exit 2)
        except RpcFailure as exc:
            raise CtlError(exc.exit_code, exc.text) from None
        return conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
