"""Test tools: run real etcd (Debian's ``etcd``) or an etcdkit server as a
process on free loopback ports, and stop it by PID.

Everything here binds only to 127.0.0.1, bounds every wait in time, and stops
exactly the processes it started.
"""

from etcdkit.testing.processes import EtcdkitProcess, EtcdProcess, ServerProcess, free_port, wait_until

__all__ = ["EtcdProcess", "EtcdkitProcess", "ServerProcess", "free_port", "wait_until"]
