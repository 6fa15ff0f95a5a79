"""The ``negmine`` command line: a click group in main.py and one file a command."""
