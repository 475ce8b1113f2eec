"""``python -m etcdkit.bench ...``: the same as ``etcdkit bench ...``."""

import sys

from etcdkit.bench.main import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
