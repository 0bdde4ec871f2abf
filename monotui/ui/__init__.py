"""The Textual app: screens, widgets, key map and styles. Never builds HTTP requests: it asks the engine."""
