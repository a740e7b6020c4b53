"""``bazgasht sample-store serve``: the built-in WooCommerce-compatible store, by hand."""

from __future__ import annotations

import threading
from typing import Annotated

import typer

app = typer.Typer(help="The built-in sample WooCommerce store.", no_args_is_help=True)


@app.command("serve")
def serve(
    orders: Annotated[
        int, typer.Option(min=0, help="How many orders of history to generate.")
    ] = 1500,
    currency: Annotated[str, typer.Option(help="USD, EUR, or a zero-decimal IRR / IRT.")] = "USD",
    seed: Annotated[int, typer.Option(help="Seed of the generated history.")] = 1,
    latency_ms: Annotated[float, typer.Option(min=0, help="Delay added to every request.")] = 0.0,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free one).")] = 0,
) -> None:
    """Serve a generated store on 127.0.0.1 until Ctrl-C, and print its URL and keys.

    Example: bazgasht sample-store serve --orders 5000 --currency IRT --latency-ms 100
    """
    from connector.samplestore import SampleStore  # only loaded when needed

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
