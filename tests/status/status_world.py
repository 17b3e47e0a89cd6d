"""A small, hand-written store for status and marts tests.

It fills the input tables of pipelines/status (raw.batches, the staging columns the rules read,
core.grids/houses/person_records/person_links/persons), created empty by the product's own SQL
(tests/schema.py), so the tests exercise the same SQL files as a run, without depending on ingest or
identity.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

D = dt.date

# the row's main date, as core.person_records.event_date
EVENT_DATE = {"residents": "collected_on", "visits": "visit_date", "hukou": "change_date",
              "floating": "registered_on", "assistance": "start_date", "deaths": "death_date",
              "disability": "issued_on"}
# what the row says, as core.person_records.outcome
OUTCOME = {"residents": "category", "visits": "visit_result", "hukou": "hukou_status",
           "assistance": "assistance_type"}
FLOATING_DATES = ("registered_on", "permit_valid_until", "deregistered_on", "deregistration_reason")


class World:
    def __init__(self, conn):
        self.conn = conn
        self.next_row: dict[str, int] = defaultdict(lambda: 2)   # row 1 is the header
        self.persons: set[str] = set()

    def batch(self, template: str, name: str | None = None, loaded_on: dt.date = D(2026, 11, 1)) -> str:
        batch_id = f"{template}-{name or 'b1'}"
        if not self.conn.execute("SELECT 1 FROM raw.batches WHERE batch_id = ?", [batch_id]).fetchone():
            n = self.conn.execute("SELECT count(*) FROM raw.batches").fetchall()[0][0]
            self.conn.execute("INSERT INTO raw.batches (batch_id, template, file_name, loaded_at, loaded_on, status,"
                              " batch_no) VALUES (?, ?, ?, ?, ?, 'loaded', ?)",
                              [batch_id, template, f"{template}/{name or template}.csv",
                               dt.datetime.combine(loaded_on, dt.time(8)) + dt.timedelta(seconds=n),
                               loaded_on, n + 1])
        return batch_id

    def grid(self, microgrid: str, grid: str, *, community: str = "C1", street: str = "S1",
             district: str = "510104", grid_name: str | None = None, grid_type: str = "一般网格") -> None:
        self.conn.execute("INSERT INTO core.grids (microgrid_code, microgrid_name, grid_code, grid_name, grid_type,"
                          " community_code, street_code, district_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          [microgrid, microgrid + "微网格", grid, grid_name or grid + "网格", grid_type,
                           community, street, district])

    def house(self, code: str, microgrid: str) -> None:
        self.conn.execute("INSERT INTO core.houses (house_code, microgrid_code, std_address) VALUES (?, ?, ?)",
                          [code, microgrid, code + "号"])

    def person(self, key: str, id_number: str | None = None, name: str = "张三") -> str:
        if key not in self.persons:
            self.persons.add(key)
            self.conn.execute("INSERT INTO core.persons (person_key, name, id_number, n_records) VALUES (?, ?, ?, 0)",
                              [key, name, id_number])
        return key

    def add(self, template: str, person: str | None, *, batch: str | None = None, record_no: str | None = None,
            house: str | None = None, id_number: str | None = None, name: str = "张三", **cols) -> str:
        """One loaded row of a person-bearing template; ``person`` None leaves it unlinked."""
        batch_id = self.batch(template, batch)
        row_no = self.next_row[batch_id]
        self.next_row[batch_id] += 1
        record_key = f"{template}:{batch_id}:{row_no}"
        stated_house = house if template in ("residents", "visits", "floating") else None
        values = {"batch_id": batch_id, "row_no": row_no, "record_no": record_no, "name": name,
                  "id_number": id_number, **cols}
        if stated_house is not None:
            values["house_code"] = stated_house
        names = list(values)
        self.conn.execute(f"INSERT INTO staging.{template} ({', '.join(names)}) "
                          f"VALUES ({', '.join('?' for _ in names)})", list(values.values()))
        record_id = self.conn.execute(
            "SELECT record_id(batch_no, ?) FROM raw.batches WHERE batch_id = ?", [row_no, batch_id]).fetchall()[0][0]
        says = {"outcome": cols.get(OUTCOME.get(template, ""))}
        if template == "floating":
            says.update({c: cols.get(c) for c in FLOATING_DATES})
        if template == "assistance":
            says["end_date"] = cols.get("end_date")
        self.conn.execute(
            "INSERT INTO core.person_records (record_key, record_id, template, batch_id, row_no, record_no, name, "
            f"name_raw, id_number, id_raw, id_valid, house_code, event_date, stated_house_code, {', '.join(says)}) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {', '.join('?' for _ in says)})",
            [record_key, record_id, template, batch_id, row_no, record_no, name, name, id_number, id_number,
             id_number is not None, house, cols.get(EVENT_DATE[template]), stated_house, *says.values()])
        if person is not None:
            self.person(person, id_number, name)
        self.conn.execute("INSERT INTO core.person_links (record_key, record_id, person_key, rule) VALUES (?, ?, ?, ?)",
                          [record_key, record_id, person, "id_exact" if person else "ambiguous"])
        return record_key

    # shorthands for the rules' sources
    def resident(self, person, day, house, category="户籍人口", **kw):
        return self.add("residents", person, house=house, collected_on=day, category=category, **kw)

    def visit(self, person, day, house, result, **kw):
        return self.add("visits", person, house=house, visit_date=day, visit_result=result, **kw)

    def hukou(self, person, status, day=None, house=None, **kw):
        return self.add("hukou", person, house=house, hukou_status=status, change_date=day, **kw)

    def floating(self, person, registered, house=None, permit=None, dereg=None, reason=None, **kw):
        return self.add("floating", person, house=house, registered_on=registered, permit_valid_until=permit,
                        deregistered_on=dereg, deregistration_reason=reason, **kw)

    def death(self, person, day, **kw):
        return self.add("deaths", person, death_date=day, **kw)

    def assistance(self, person, start, end=None, kind="城市低保", amount="800.00", **kw):
        return self.add("assistance", person, start_date=start, end_date=end, assistance_type=kind,
                        monthly_amount=amount, **kw)


def status_of(conn, person: str) -> dict | None:
    cur = conn.execute("SELECT * FROM core.person_status WHERE person_key = ?", [person])
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row)) if row else None
