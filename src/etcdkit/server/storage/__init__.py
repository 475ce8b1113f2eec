"""Storage: the on-disk formats of the server (LMDB backend, etcd/bbolt snapshot files)."""
