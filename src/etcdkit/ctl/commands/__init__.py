"""Command handlers: ``handler(ctx: Context) -> int``, one module per command family, imported lazily."""
