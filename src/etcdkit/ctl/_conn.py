"""The CLI's connection layer: one gRPC channel to etcd plus the stubs over it.

A deliberately small stand-in for ``etcdkit.client`` (to be swapped for it):
``Connection(settings)`` dials lazily; ``unary(stub, method, request)`` runs
one RPC with the command timeout and returns the response or raises
``RpcFailure`` whose ``text`` is what etcdctl would print for that error
(``etcdserver: ...`` for catalogued etcd errors, ``context deadline
exceeded``, or ``rpc error: code = X desc = Y``), after logging clientv3's
retry-interceptor warning line on stderr as etcdctl does. When a user is
given, a token is fetched from the Auth service and sent as ``token``
metadata on every call.
"""

from __future__ import annotations

import sys
from typing import Any

import grpc

__all__ = ["Connection", "RpcFailure", "Settings", "go_code_name"]


class Settings:
    """Connection settings taken from the global flags (times in seconds). Treat as immutable."""

    def __init__(self, endpoints: list[str] | None = None, dial_timeout: float = 2.0, command_timeout: float = 5.0,
                 keepalive_time: float = 2.0, keepalive_timeout: float = 6.0, insecure_transport: bool = True,
                 insecure_skip_tls_verify: bool = False, cacert: str = "", cert: str = "", key: str = "",
                 user: str = "", password: str = "") -> None:
        self.endpoints = endpoints or ["127.0.0.1:2379"]
        self.dial_timeout = dial_timeout
        self.command_timeout = command_timeout
        self.keepalive_time = keepalive_time
        self.keepalive_timeout = keepalive_timeout
        self.insecure_transport = insecure_transport
        self.insecure_skip_tls_verify = insecure_skip_tls_verify
        self.cacert = cacert
        self.cert = cert
        self.key = key
        self.user = user
        self.password = password


class RpcFailure(Exception):
    """An RPC failed; ``text`` is etcdctl's rendering of the error, ``code`` the gRPC status."""

    def __init__(self, text: str, code: grpc.StatusCode | None = None, exit_code: int = 1) -> None:
        super().__init__(text)
        self.text = text
        self.code = code
        self.exit_code = exit_code


def go_code_name(code: grpc.StatusCode) -> str:
    """grpc-go's ``codes.Code.String()`` (``InvalidArgument``, ``Canceled`` ...)."""
    name = "".join(p.capitalize() for p in code.name.split("_"))
    return "Canceled" if name == "Cancelled" else name


_NOT_READY = "latest balancer error: all SubConns are in TransientFailure"


def _strip_scheme(ep: str) -> tuple[str, bool]:
    if ep.startswith("https://"):
        return ep[len("https://") :], True
    if ep.startswith("http://"):
        return ep[len("http://") :], False
    if ep.startswith("unix://") or ep.startswith("unixs://"):
        return "unix:" + ep.split("://", 1)[1], ep.startswith("unixs")
    return ep, False


def _multi_target(endpoints: list[str]) -> str | None:
    """An ``ipv4:a:p,b:q`` target (gRPC's pick_first fails over between addresses, as clientv3's balancer
    does) when every endpoint is an IPv4 literal with a port; None otherwise (then the first is used)."""
    addrs = []
    for ep in endpoints:
        hostport, _ = _strip_scheme(ep)
        host, _, port = hostport.rpartition(":")
        parts = host.split(".")
        if not port.isdigit() or len(parts) != 4 or not all(p.isdigit() and int(p) < 256 for p in parts):
            return None
        addrs.append(hostport)
    return "ipv4:" + ",".join(addrs)


def _message_class(desc: Any) -> Any:
    from google.protobuf import message_factory

    return message_factory.GetMessageClass(desc)


class Connection:
    """A lazily dialled channel to the first endpoint, with etcdctl's error rendering."""

    def __init__(self, settings: Settings, endpoint: str | None = None) -> None:
        self.settings = settings
        self.endpoint = endpoint if endpoint is not None else settings.endpoints[0]
        self._all = endpoint is None and len(settings.endpoints) > 1
        self._channel: grpc.Channel | None = None
        self._metadata: list[tuple[str, str]] = []
        self._client_id = ""
        self._authenticated = False

    # -- channel ---------------------------------------------------------------------------------------------
    def _credentials(self, target: str, secure_scheme: bool) -> grpc.ChannelCredentials | None:
        s = self.settings
        if not (secure_scheme or s.cacert or s.cert or s.key or not s.insecure_transport):
            return None
        root = open(s.cacert, "rb").read() if s.cacert else None  # noqa: SIM115
        cert = open(s.cert, "rb").read() if s.cert else None  # noqa: SIM115
        key = open(s.key, "rb").read() if s.key else None  # noqa: SIM115
        if s.insecure_skip_tls_verify and root is None:
            import ssl

            host, _, port = target.rpartition(":")
            root = ssl.get_server_certificate((host, int(port))).encode()
        return grpc.ssl_channel_credentials(root_certificates=root, private_key=key, certificate_chain=cert)

    @property
    def channel(self) -> grpc.Channel:
        if self._channel is None:
            target, secure = _strip_scheme(self.endpoint)
            s = self.settings
            if self._all:
                target = _multi_target(s.endpoints) or target
            options: list[tuple[str, Any]] = [
                ("grpc.keepalive_time_ms", max(int(s.keepalive_time * 1000), 10_000)),
                ("grpc.keepalive_timeout_ms", int(s.keepalive_timeout * 1000)),
                ("grpc.max_receive_message_length", 2**31 - 1),
                ("grpc.initial_reconnect_backoff_ms", 100),
                ("grpc.enable_retries", 0),
            ]
            creds = self._credentials(target, secure)
            if creds is not None:
                if s.insecure_skip_tls_verify:
                    options.append(("grpc.ssl_target_name_override", target.rpartition(":")[0]))
                self._channel = grpc.secure_channel(target, creds, options=options)
            else:
                self._channel = grpc.insecure_channel(target, options=options)
        return self._channel

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def method(self, service: str, method: str) -> Any:
        """A unary-unary callable for ``service.method`` without importing the generated ``*_grpc`` modules
        (they cost ~15 ms of start-up); streaming RPCs go through ``stub``."""
        key = (service, method)
        cache = self.__dict__.setdefault("_methods", {})
        if key not in cache:
            import importlib

            pkg, modname = {"Lock": ("v3lockpb", "v3lock_pb2"), "Election": ("v3electionpb", "v3election_pb2")}.get(
                service, ("etcdserverpb", "rpc_pb2")
            )
            mod = importlib.import_module(f"etcdkit.api.pb.{modname}")
            desc = mod.DESCRIPTOR.services_by_name[service].methods_by_name[method]
            req_cls = _message_class(desc.input_type)
            resp_cls = _message_class(desc.output_type)
            cache[key] = self.channel.unary_unary(
                f"/{pkg}.{service}/{method}",
                request_serializer=req_cls.SerializeToString,
                response_deserializer=resp_cls.FromString,
            )
        return cache[key]

    def stub(self, name: str) -> Any:
        """A stub by service name: KV, Watch, Lease, Cluster, Maintenance, Auth, Lock, Election."""
        from etcdkit.api.pb import rpc_pb2_grpc

        if name == "Lock":
            from etcdkit.api.pb import v3lock_pb2_grpc

            return v3lock_pb2_grpc.LockStub(self.channel)
        if name == "Election":
            from etcdkit.api.pb import v3election_pb2_grpc

            return v3election_pb2_grpc.ElectionStub(self.channel)
        return getattr(rpc_pb2_grpc, f"{name}Stub")(self.channel)

    @property
    def metadata(self) -> list[tuple[str, str]]:
        """Call metadata (the auth token once authenticated)."""
        return self._metadata

    # -- errors ----------------------------------------------------------------------------------------------
    def _ready(self) -> bool:
        try:
            grpc.channel_ready_future(self.channel).result(timeout=0)
        except grpc.FutureTimeoutError:
            return False
        return True

    def render(self, err: grpc.RpcError, warn: bool = True) -> RpcFailure:
        """Turn a gRPC error into ``RpcFailure`` with etcdctl's text; log the clientv3 warning if ``warn``."""
        from etcdkit.api.errors import by_message

        code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
        details = (err.details() if hasattr(err, "details") else str(err)) or ""
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            desc = _NOT_READY if not self._ready() else "context deadline exceeded"
            self.warn(f"rpc error: code = DeadlineExceeded desc = {desc}") if warn else None
            return RpcFailure("context deadline exceeded", code)
        if code == grpc.StatusCode.CANCELLED and details in ("Locally cancelled by application!", "Cancelled"):
            return RpcFailure("context canceled", code)
        go_err = f"rpc error: code = {go_code_name(code)} desc = {details}"
        if warn:
            self.warn(go_err)
        if by_message(details) is not None:
            return RpcFailure(details, code)
        return RpcFailure(go_err, code)

    def warn(self, error: str) -> None:
        """Write clientv3's ``retrying of unary invoker failed`` line (zap JSON) to stderr."""
        import datetime
        import json
        import uuid

        if not self._client_id:
            self._client_id = str(uuid.uuid4())
        ts = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        target, _ = _strip_scheme(self.endpoint)
        line = (
            '{"level":"warn","ts":"' + ts + '","caller":"clientv3/retry_interceptor.go:62",'
            '"msg":"retrying of unary invoker failed","target":'
            + json.dumps(f"endpoint://client-{self._client_id}/{target}", ensure_ascii=False)
            + ',"attempt":0,"error":'
            + json.dumps(error, ensure_ascii=False)
            + "}\n"
        )
        sys.stderr.write(line)
        sys.stderr.flush()

    # -- calls -----------------------------------------------------------------------------------------------
    def authenticate(self) -> None:
        """Fetch a token for ``settings.user`` (and password) and attach it to every later call."""
        if self._authenticated or not self.settings.user:
            return
        from etcdkit.api.pb import rpc_pb2

        self._authenticated = True
        user, password = self.settings.user, self.settings.password
        try:
            resp = self.unary("Auth", "Authenticate", rpc_pb2.AuthenticateRequest(name=user, password=password))
        except RpcFailure as exc:
            exc.exit_code = 2  # etcdctl fails to build its client: ExitBadConnection
            raise
        self._metadata = [("token", resp.token)]

    def unary(self, service: str, method: str, request: Any, timeout: float | None = -1.0) -> Any:
        """Run one unary RPC; deadline: the command timeout by default, ``timeout`` seconds, or none if None."""
        self.authenticate()
        fn = self.method(service, method)
        try:
            return fn(
                request,
                timeout=self.settings.command_timeout if timeout == -1.0 else timeout,
                metadata=self._metadata or None,
                wait_for_ready=True,
            )
        except grpc.RpcError as err:
            raise self.render(err) from None
