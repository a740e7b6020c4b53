"""The `bazgasht` command line."""
