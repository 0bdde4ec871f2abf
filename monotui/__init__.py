"""monotui: the terminal control room for teams that run production as their only environment."""

__version__ = "0.2.0"
