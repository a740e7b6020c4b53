"""``python -m cli`` runs the ``bazgasht`` command (used by tests that spawn processes)."""

from cli.main import main

main()
