"""Pure rendering helpers: domain objects in, rich `Text` out. The one place where strings become styled text.

Nothing here imports textual, so the CLI's `status` output and the TUI render the same way.
"""
