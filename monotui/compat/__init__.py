"""The one door to the private parts of the libraries monotui builds on.

`monotui.compat.textual` holds every use of a private Textual name in product code (textual-serve's are in
`monotui.compat.textual_serve`); each use says why no public API serves, and tests/test_compat_textual.py fails
loudly when a Textual release changes one. No other product module may touch a private Textual name.
"""
