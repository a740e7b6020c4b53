"""The SQLite database holds customers' e-mails, names and phones: its folder is created 0700,
the database and every file beside it (WAL, shared memory, locks) 0600 — and an existing
install is tightened when it is opened, with one notice (issue 10, item 1). SQLite only: a
PostgreSQL database has no file of ours."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from cli.main import run
from connector import open_database
from connector._lock import store_lock


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _usual_umask() -> Iterator[None]:
    """The usual umask: without care, files would be 0644 and folders 0755."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_a_new_database_is_private_from_the_first_byte(tmp_path: Path) -> None:
    database = tmp_path / "data" / "bazgasht" / "b.sqlite"
    engine = open_database(f"sqlite:///{database}")
    try:
        with engine.begin() as conn:  # a write: SQLite now has its -wal and -shm files
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        with store_lock(engine, "shop"):
            locks = sorted(database.parent.glob("b.sqlite.*lock"))
        assert mode(database.parent) == 0o700
        files = [database, Path(f"{database}-wal"), Path(f"{database}-shm"), *locks]
        assert len(locks) == 2  # the migration lock and the store's sync lock
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        engine.dispose()


def test_an_existing_install_is_tightened_once_with_a_notice(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "bazgasht"
    folder.mkdir(mode=0o755)
    database = folder / "bazgasht.sqlite"
    open_database(f"sqlite:///{database}").dispose()
    for path in (folder, database, *folder.glob("bazgasht.sqlite*")):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)  # as the old version left them
    with caplog.at_level(logging.WARNING, logger="bazgasht.connector"):
        open_database(f"sqlite:///{database}", own_folder=True).dispose()
    assert mode(folder) == 0o700
    assert all(mode(p) == 0o600 for p in folder.iterdir())
    notices = [r.getMessage() for r in caplog.records]
    assert len(notices) == 1 and "made the database private" in notices[0]
    assert str(database) in notices[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bazgasht.connector"):
        open_database(f"sqlite:///{database}", own_folder=True).dispose()
    assert caplog.records == []  # said once: the next run finds it private


def test_a_folder_the_owner_chose_is_left_alone(tmp_path: Path) -> None:
    shared = tmp_path / "srv"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    database = shared / "shop.sqlite"
    open_database(f"sqlite:///{database}").dispose()
    assert mode(shared) == 0o755  # not ours to change: others may keep things there
    assert mode(database) == 0o600


def test_the_cli_keeps_the_default_data_folder_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "share" / "bazgasht"
    data.mkdir(parents=True, mode=0o755)
    os.chmod(data, 0o755)
    monkeypatch.setattr("app._config.platformdirs.user_data_dir", lambda _app: str(data))
    monkeypatch.delenv("BAZGASHT_DATABASE_URL", raising=False)
    code = run(["--config", str(tmp_path / "config.toml"), "init"])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert mode(data) == 0o700
    assert mode(data / "bazgasht.sqlite") == 0o600


def test_a_database_of_another_user_is_opened_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shared setup: the file belongs to someone else, so chmod is refused; the database
    still opens (refusing would stop a working install) and the owner is told."""
    database = tmp_path / "shared.sqlite"
    open_database(f"sqlite:///{database}").dispose()
    os.chmod(database, 0o644)

    def refuse(path: object, mode: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr("connector._db.os.chmod", refuse)
    with caplog.at_level(logging.WARNING, logger="bazgasht.connector"):
        open_database(f"sqlite:///{database}").dispose()
    assert any("not ours to change" in r.getMessage() for r in caplog.records)
