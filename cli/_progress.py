"""Syncing a store with a progress bar on a terminal (``sync`` and ``demo`` show it)."""

from __future__ import annotations

from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app import Registry, Round, StoreRun, sync_one
from cli._context import stderr_console
from cli._render import esc


def sync_with_progress(
    registry: Registry,
    name: str,
    full: bool,
    concurrency: int,
    progress: bool,
    sync_round: Round | None = None,
) -> StoreRun:
    """``app.sync_one``, with a progress bar when ``progress`` (a terminal)."""
    if not progress:
        return sync_one(registry, name, full=full, concurrency=concurrency, sync_round=sync_round)
    with Progress(
        TextColumn(f"[bold]{esc(name)}[/] {{task.description}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr_console(),
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def on_page(resource: str, done: int, expected: int | None) -> None:
            if resource not in tasks:
                tasks[resource] = bar.add_task(resource, total=expected)
            bar.update(tasks[resource], completed=done)

        return sync_one(
            registry,
            name,
            full=full,
            concurrency=concurrency,
            progress=on_page,
            sync_round=sync_round,
        )
