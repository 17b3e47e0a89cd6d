"""Hand-made core.person_records rows for identity tests, in the product's own (empty) tables: the
``store`` of tests/identity/conftest.py is a copy of tests/schema.py's store."""
from __future__ import annotations

import datetime as dt

_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"


def make_id(birth: str, seq: str = "001", region: str = "510104") -> str:
    """A valid 18-digit resident ID (GB 11643-1999) for a birth date YYYYMMDD."""
    body = region + birth + seq
    return body + _CHECK[sum(int(c) * w for c, w in zip(body, _WEIGHTS)) % 11]


def record(key: str, name: str, *, template: str = "residents", id_number: str | None = None,
           id_valid: bool | None = None, birth: str | None = None, sex: str | None = None,
           house: str | None = None, event: str = "2024-01-01") -> dict:
    valid = id_valid if id_valid is not None else (id_number is not None and make_id(id_number[6:14], id_number[14:17], id_number[:6]) == id_number)
    birth_date = dt.date.fromisoformat(birth) if birth else (
        dt.datetime.strptime(id_number[6:14], "%Y%m%d").date() if valid else None)
    return {
        "record_key": f"{template}:b1:{key}", "template": template, "batch_id": "b1", "row_no": int(key),
        "record_no": None, "name": name, "name_raw": name, "id_number": id_number, "id_raw": id_number,
        "id_valid": valid if id_number else False, "id_problem": None if valid or not id_number else "校验码错误",
        "birth_date": birth_date, "sex": sex, "house_code": house, "house_source": "stated" if house else None,
        "address": None, "event_date": dt.date.fromisoformat(event),
    }


def load_records(conn, rows: list[dict]) -> None:
    conn.execute("DELETE FROM core.person_records")    # core step 4 rewrites the table whole
    # the batch the records come from, as in a real store (identity_upgrade.sql reads it)
    conn.execute("INSERT INTO raw.batches (batch_id, template, file_name, status, batch_no) "
                 "SELECT 'b1', 'residents', 'residents/b1.csv', 'loaded', 1 "
                 "WHERE NOT EXISTS (FROM raw.batches WHERE batch_id = 'b1')")
    cols = list(rows[0])
    conn.executemany(
        f"INSERT INTO core.person_records ({', '.join(cols)}, record_id) "
        f"VALUES ({', '.join('?' for _ in cols)}, ?)",
        [[r[c] for c in cols] + [n] for n, r in enumerate(rows, start=1)],
    )


