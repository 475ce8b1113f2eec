"""gRPC servicers: thin async adapters that validate, call a core, map errors and fill headers."""
