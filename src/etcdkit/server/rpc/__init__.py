"""Thin gRPC servicers: validate -> call the server core -> map the error -> fill the header.

``mapped`` turns ``EtcdServerError`` into the exact gRPC status etcd sends.
"""
