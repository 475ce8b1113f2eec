"""``etcdkit.bench``: a load generator for any etcd v3 server, over grpc.aio and the raw stubs.

Package contract:

* workloads: ``put``, ``range`` (linearizable or serializable), ``txn``
  (compare-and-put), ``watch`` (1 writer fan-out to N watchers on a prefix,
  delivery latency from a send timestamp embedded in each value) and
  ``lease`` (keep-alive round trips on one stream per client) and
  ``lease-grant`` (LeaseGrant calls; the granted leases are revoked after
  the measured phase);
* every run is bounded (``total`` ops or ``duration`` seconds, per-request
  timeout) and ends with ``issued == acknowledged + errors`` checked;
* latencies are kept exactly (ns samples); percentiles are nearest-rank.

Modules: ``config`` (BenchConfig), ``latency`` (samples, percentiles,
histogram), ``result`` (BenchResult, renderings), ``driver`` (channels and
the closed-loop client tasks), ``workloads`` (request workloads), ``fanout``
(watch workloads), ``runner`` (one run), ``procstat`` (server CPU and RSS from
/proc), ``compare`` (side-by-side rounds and the markdown table), ``main``
(the CLI). Importing this package does not import grpc.
"""

from etcdkit.bench.config import WORKLOADS, BenchConfig
from etcdkit.bench.latency import LatencyRecorder, LatencySummary
from etcdkit.bench.result import BenchResult, CountMismatch

__all__ = ["WORKLOADS", "BenchConfig", "BenchResult", "CountMismatch", "LatencyRecorder", "LatencySummary"]
