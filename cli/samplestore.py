"""``bazgasht sample-store serve``: the built-in WooCommerce-compatible store, by hand."""

from __future__ import annotations

import threading
from typing import Annotated

import typer

from cli._options import new_app

app = new_app("The built-in sample WooCommerce store.\n\nFor trying things by hand.")


@app.command("serve")
def serve(
    orders: Annotated[
        int, typer.Option(metavar="N", min=0, help="How many orders of history to generate.")
    ] = 1500,
    currency: Annotated[
        str, typer.Option(metavar="CODE", help="USD, EUR, or a zero-decimal IRR / IRT.")
    ] = "USD",
    seed: Annotated[int, typer.Option(metavar="N", help="Seed of the generated history.")] = 1,
    latency_ms: Annotated[
        float, typer.Option(metavar="MS", min=0, help="Delay added to every request.")
    ] = 0.0,
    port: Annotated[
        int, typer.Option(metavar="PORT", min=0, max=65535, help="Port (0: any free one).")
    ] = 0,
) -> None:
    """Serve a generated store on 127.0.0.1 until Ctrl-C.

    Prints its URL and made-up keys, and the `store add` line that connects to it.

    \b
    Examples:
      bazgasht sample-store serve
      bazgasht sample-store serve --orders 5000 --currency IRT --latency-ms 100
    """
    from samplestore import SampleStore  # only loaded when needed

    with SampleStore(
        orders=orders, currency=currency.upper(), seed=seed, latency_ms=latency_ms, port=port
    ) as store:
        typer.echo(
            f"Sample WooCommerce store at {store.url}  ({orders} orders, {currency.upper()})"
        )
        typer.echo(f"  consumer key:    {store.consumer_key}")
        typer.echo(f"  consumer secret: {store.consumer_secret}")
        typer.echo(f"  read-only key:   {store.readonly_key} / {store.readonly_secret}")
        typer.echo("These keys are made up for this process and die with it. Try:")
        typer.echo(
            f"  bazgasht store add sample --url {store.url} --key {store.consumer_key} "
            "--secret-stdin"
        )
        typer.echo("Press Ctrl-C to stop.")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            typer.echo("Stopped.")
