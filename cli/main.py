"""Entry point of the ``bazgasht`` command."""

import typer

app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo("bazgasht 0.1.0")


def main() -> None:
    app()
