"""Masking by class and grant: the SQL macros and their Python twins agree, IDs are found inside longer
values, and every column any output can carry has a class."""
from __future__ import annotations

import datetime as dt
import random

import pytest

from pipelines.publish import masking as M
from pipelines.publish.registry import load_registry
from pipelines.quality.validate import suite_docs
from pipelines.sources import load_catalog

AS_OF = dt.date(2026, 10, 31)
_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def make_id(body17: str) -> str:
    """An ID with its ISO 7064 MOD 11-2 check character, computed here, not by the code under test."""
    return body17 + "10X98765432"[sum(int(c) * w for c, w in zip(body17, _W)) % 11]


ID = make_id("51010419900101123")
ID_X = next(make_id(f"4201061944020535{i}") for i in range(10) if make_id(f"4201061944020535{i}").endswith("X"))
FULLWIDTH = ID.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
WRONG_CHECK = ID[:-1] + ("0" if ID[-1] != "0" else "1")

CORPUS = [
    None, "", "张三", "abc", ID, ID_X, ID.lower(), WRONG_CHECK,
    ID + "42",                         # 残疾证号: the ID and two digits
    ID_X + "22",                       # ... with the X inside
    "9" + ID + "77",                   # an ID inside a longer run of digits
    f"核对身份证{ID}，本人在住", f"户主身份证{ID_X}，已核实", f"ＩＤ{FULLWIDTH}号",
    "已电话联系（13812345678），本人在家", "13812345678,13912345678;13712345678 three",
    "013812345678", "138123456789", "13812345678", "028-85551234", f"{ID}与13800001111",
    "a13812345678b", "电话:13812345678。", "１３８１２３４５６７８",
    "5101128025430", "R-0001", "SQ000015579", "P0000019633", "510104 19721212 1000", "42010619440205351x",
    "５１０１０４　１９７２１２１２　１０００", "510104-1972-1212-1000", "CJ_0001",
    "365137a82c333a6b01567138662e0bcb4583e0d3832c9d031d81777cec95ef3f",
    f"联系人{ID}电话13800001111", "实有人口采集 2026-10-20 记录编号 " + ID,
]
GRANTS = [M.Masking(), M.Masking(id="隐藏", phone="隐藏", name="姓氏", address="隐藏"), M.Masking(id="全文"),
          M.Masking(phone="全文"), M.Masking(id="全文", phone="全文")]


def test_the_sql_and_the_python_masking_agree(conn):
    import pyarrow as pa

    conn.execute("CREATE OR REPLACE TEMP TABLE corpus (i INTEGER, v VARCHAR)")
    conn.executemany("INSERT INTO corpus VALUES (?, ?)", list(enumerate(CORPUS)))
    for m in GRANTS:
        exprs = [f'{M.column_sql("v", cls, m)} AS "{cls}"' for cls in M.CLASSES]
        table = conn.sql(f"SELECT {', '.join(exprs)} FROM corpus ORDER BY i").to_arrow_table()
        # the class rule in SQL is mask_class; with the scrub of the Arrow data it is mask_value
        assert [list(r.values()) for r in table.to_pylist()] == \
            [[M.mask_class(v, cls, m) for cls in M.CLASSES] for v in CORPUS], m
        scrubbed = M.scrub_arrow(table, {cls: cls for cls in M.CLASSES}, m)
        assert [list(r.values()) for r in scrubbed.to_pylist()] == \
            [[M.mask_value(v, cls, m) for cls in M.CLASSES] for v in CORPUS], m
        batch = M.scrub_arrow(table.to_batches()[0], {cls: cls for cls in M.CLASSES}, m)
        assert isinstance(batch, pa.RecordBatch) and batch.to_pylist() == scrubbed.to_pylist()


def test_ids_are_found_inside_longer_values_and_only_with_a_valid_check_character():
    assert M.ids_in("9" + ID + "77") == [ID]
    assert M.ids_in(ID_X + "22") == [ID_X]
    assert M.ids_in(f"ＩＤ{FULLWIDTH}号") == [ID]
    assert M.ids_in(WRONG_CHECK) == []
    assert M.ids_in("51010499990101123X") == []          # no such birth date
    # an ID class value is masked whatever its check character: a typo is still somebody's number
    assert M.mask_value(WRONG_CHECK, "id") == WRONG_CHECK[:6] + "*" * 8 + WRONG_CHECK[-4:]
    # 残疾证号: 前6后4 of the whole value, no run of the ID left
    shown = M.mask_value(ID + "42", "id")
    assert shown == ID[:6] + "*" * 10 + ID[-2:] + "42" and not M.ids_in(shown)
    # free text keeps its words
    assert M.mask_value(f"核对身份证{ID}，本人在住", "id") == f"核对身份证{ID[:6]}********{ID[-4:]}，本人在住"
    # any other text: valid IDs and lone mobile numbers masked, codes left alone
    assert M.mask_text(f"联系人{ID}电话13800001111") == f"联系人{ID[:6]}********{ID[-4:]}电话138****1111"
    assert M.mask_text("SQ000015579 P0000019633 013812345678") == "SQ000015579 P0000019633 013812345678"
    assert M.mask_text(f"{ID} 13800001111", M.Masking(id="全文", phone="全文")) == f"{ID} 13800001111"


def test_random_ids_inside_random_digits_are_always_masked():
    rnd = random.Random(19)
    for _ in range(300):
        body = f"{rnd.choice(['110101', '510104', '440305', '420106'])}{rnd.randint(1930, 2020)}" \
               f"{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}{rnd.randint(0, 999):03d}"
        idn = make_id(body)
        text = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(0, 5))) + idn + \
            "".join(rnd.choice("0123456789") for _ in range(rnd.randint(0, 5)))
        shown = M.mask_text(rnd.choice(["备注", "", "No."]) + text)
        assert idn not in shown, (idn, shown)


def test_quoted_cells_in_a_message_are_masked_by_their_class():
    msg = f'residents/a.csv 第6行 公民身份号码 "{WRONG_CHECK}" 无效：校验码错误；最可能是 张三（{ID}）'
    shown = M.mask_quoting(msg, {WRONG_CHECK: "id", ID: "id"})
    assert WRONG_CHECK not in shown and ID not in shown and "第6行 公民身份号码" in shown


def test_every_column_an_output_can_carry_has_one_class():
    reg = load_registry()
    fields = {f.name for t in load_catalog() for f in t.fields}
    columns = {c.name for x in reg.extracts.values() for c in x.columns}
    suites = {e["meta"]["field"] for doc in suite_docs().values() for e in doc["expectations"]
              if e["meta"].get("field")}
    missing = sorted((fields | columns | suites) - set(reg.classes))
    assert not missing, f"unclassified (reports/extracts.yaml classes): {missing}"
    # the values the contract names as holding an ID are identifiers
    for name in ("公民身份号码", "残疾证号", "居住证号码", "产权人身份证号", "备注"):
        assert reg.classes[name] == "id", name
    assert reg.classes["联系电话"] == "phone" and reg.classes["姓名"] == "name"
    # phone/ID typed source fields are classified as such
    for t in load_catalog():
        for f in t.fields:
            if f.type == "id_number":
                assert reg.classes[f.name] == "id", f.name
            if f.type == "phone":
                assert reg.classes[f.name] == "phone", f.name


def test_every_report_table_column_has_a_class(conn):
    from pipelines.publish.grants import prepare
    from pipelines.reports import FAMILIES
    from pipelines.reports.families import build

    reg = load_registry()
    prepare(conn, AS_OF)
    for name, family in FAMILIES.items():
        report = build(conn, family, AS_OF, "x", M.DEFAULT)
        for s in report.sections:
            for c in s.columns:
                if c.kind == "text":
                    assert c.name in reg.classes, (name, s.title, c.name)
        for lst in report.lists:
            for c in lst.table.column_names:
                assert c in reg.classes, (name, lst.key, c)


def test_bad_masking_in_the_registry_is_refused():
    with pytest.raises(ValueError, match="无效"):
        M.Masking(id="前3后3")
    with pytest.raises(ValueError, match="未知的类别"):
        M.Masking.of({"email": "隐藏"})
    reg = load_registry()
    assert reg.queue_masking("街道办", "steward") == M.Masking(id="全文", phone="全文")
    assert reg.queue_masking("街道办", "someone-else") == reg.default_masking
    assert reg.queue_masking("社区", "steward") == reg.default_masking
