"""The etcdctl-compatible CLI: ``etcdkit get/put/watch/...``.

Contract: for the same server state, every command prints exactly what etcdctl 3.4.23 prints
(stdout, stderr, exit code) in every ``--write-out`` format, accepts the same flags and
``ETCDCTL_*`` environment variables, and never shows a Python traceback unless ``--debug``.

Layout: ``main`` (entry point) -> ``_cli`` (cobra/pflag parsing, help) over ``_spec`` (the command
tree as data) -> ``commands.<family>`` handlers (imported lazily) using ``_context.Context``
(flags, env, output) and ``_conn`` (the gRPC connection layer, to be replaced by
``etcdkit.client``) -> ``printers`` (pure functions from responses to text).
"""

__all__: list[str] = []
