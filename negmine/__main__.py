"""``python -m negmine`` runs the command line."""

from negmine.cli.main import main

main()
