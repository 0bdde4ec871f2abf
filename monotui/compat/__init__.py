"""The third-party internals monotui relies on, each in one place with why and a test that fails when it changes."""
