"""Store encryption at rest (docs/security.md): with a key configured, the store is opened through
DuckDB's built-in database encryption; without the key it cannot be read."""
from __future__ import annotations

import duckdb
import pytest

from pipelines.store import Store, StoreKeyError, worker_connection

KEY = "test-key-0123456789abcdef"


def _make_encrypted(path, key):
    # Writing needs httpfs (OpenSSL); where it is not installed, DuckDB's mbedtls can write when
    # forced. Acceptable for a test file only, never for a real store (docs/security.md).
    conn = duckdb.connect(":memory:")
    try:
        conn.execute("LOAD httpfs")
    except duckdb.Error:
        conn.execute("SET force_mbedtls_unsafe = true")
    conn.execute(f"ATTACH '{path}' AS s (ENCRYPTION_KEY '{KEY}')")
    conn.execute("CREATE SCHEMA s.core")
    conn.execute("CREATE TABLE s.core.persons AS SELECT 'P0000000001' AS person_key")
    conn.close()


def test_encrypted_store_opens_with_its_key_only(tmp_path, monkeypatch):
    path = tmp_path / "store.duckdb"
    _make_encrypted(path, KEY)
    assert b"P0000000001" not in path.read_bytes()

    monkeypatch.setenv("ONCEONLY_STORE_KEY", KEY)
    with Store(path).connect(read_only=True) as conn:
        assert conn.execute("SELECT person_key FROM core.persons").fetchall() == [("P0000000001",)]
        assert conn.execute("SELECT id_mask('510104199001011234')").fetchall()[0][0] == "510104********1234"

        # a second connection for a loading thread lands in the attached store too, macros loaded
        worker = worker_connection(conn)
        assert worker.execute("SELECT person_key, id_mask('510104199001011234') FROM core.persons").fetchall() == [
            ("P0000000001", "510104********1234")]
        worker.close()

    monkeypatch.setenv("ONCEONLY_STORE_KEY", "wrong key")
    with pytest.raises(StoreKeyError, match="密钥错误"):
        with Store(path).connect(read_only=True):
            pass

    monkeypatch.delenv("ONCEONLY_STORE_KEY")
    with pytest.raises(duckdb.Error):
        with Store(path).connect(read_only=True):
            pass


def test_key_file_is_read(tmp_path, monkeypatch):
    path = tmp_path / "store.duckdb"
    _make_encrypted(path, KEY)
    key_file = tmp_path / "store.key"
    key_file.write_text(KEY + "\n", encoding="utf-8")
    monkeypatch.setenv("ONCEONLY_STORE_KEY_FILE", str(key_file))
    with Store(path).connect(read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM core.persons").fetchall()[0][0] == 1


def test_non_ascii_key_is_refused_with_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("ONCEONLY_STORE_KEY", "密钥")
    with pytest.raises(StoreKeyError, match="ASCII"):
        with Store(tmp_path / "store.duckdb").connect():
            pass
