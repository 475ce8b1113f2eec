"""Watch heartbeat: bump a health key and alarm when its watch goes quiet (the talk's recipe).

    python examples/heartbeat.py --endpoints 127.0.0.1:2379 --duration 10

While it runs, stop the server (kill -STOP <pid>) to see the alarm; continue it (kill -CONT) to see it clear.
Metrics are printed in Prometheus' text format at the end.
"""

from __future__ import annotations

import time

from _common import endpoints, parser
from prometheus_client import CollectorRegistry, generate_latest

from etcdkit.client import Client
from etcdkit.recipes import HeartbeatState, WatchHeartbeat


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--key", default="/stock/health")
    p.add_argument("--interval", type=float, default=0.5)
    p.add_argument("--bound", type=float, default=2.0)
    p.add_argument("--duration", type=float, default=3.0)
    args = p.parse_args()
    registry = CollectorRegistry()

    def on_change(state: HeartbeatState, age: float) -> None:
        print(f"heartbeat {state.value}: last event {age:.1f}s ago", flush=True)

    with (
        Client(endpoints=endpoints(args), request_timeout=args.bound) as client,
        WatchHeartbeat(
            client, args.key.encode(), interval=args.interval, bound=args.bound, on_change=on_change, registry=registry
        ) as hb,
    ):
        time.sleep(args.duration)  # the heartbeat runs in the background meanwhile
        print(f"state {hb.state.value}, {hb.events} heartbeat events seen")
    print(generate_latest(registry).decode())


if __name__ == "__main__":
    main()
