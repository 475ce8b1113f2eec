"""Thin grpc.aio servicers: validate, call the server core, map errors, fill headers."""
