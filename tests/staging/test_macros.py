"""The shared macros of sql/macros (ID numbers, dates, names, phones), on a real store connection."""
from __future__ import annotations

import datetime as dt

import pytest


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    from pipelines.store import Store

    with Store(tmp_path_factory.mktemp("macros") / "store.duckdb").connect() as c:
        yield c


def one(conn, sql, *params):
    return conn.execute(f"SELECT {sql}", list(params)).fetchall()[0][0]


@pytest.mark.parametrize("text", [
    "2024-03-05", "2024/3/5", "2024.03.05", "20240305", "2024年3月5日", "2024 年 3 月 5 日", "45356", "45356.0",
    "2024-03-05 10:30:00", "2024-03-05T10:30", "2024/3/5 0:00:00", "２０２４－０３－０５", " 2024-3-05 ",
])
def test_cn_date_reads_every_form(conn, text):
    assert one(conn, "cn_date(?)", text) == dt.date(2024, 3, 5)


@pytest.mark.parametrize("text", ["2024-02-30", "2023/2/29", "20241301", "abc", "2024-03", "123", "3/5/2024", ""])
def test_cn_date_refuses_what_is_not_a_date(conn, text):
    assert one(conn, "cn_date(?)", text) is None


@pytest.mark.parametrize("raw, normalised", [
    ("510104199001010019", "510104199001010019"),
    ("510104900101001", "510104199001010019"),              # 15 -> 18: '19' century + computed check digit
    ("５１０１０４１９９００１０１００１９", "510104199001010019"),  # full-width
    ("11010519491231002x", "11010519491231002X"),            # x -> X
    (" 510104-1990 0101-0019 ", "510104199001010019"),       # spaces and dashes
    ("", None), ("  ", None),
])
def test_id_normalize(conn, raw, normalised):
    assert one(conn, "id_normalize(?)", raw) == normalised


@pytest.mark.parametrize("id_number, problem", [
    ("510104199001010019", None),
    ("11010519491231002X", None),
    ("510104199001010018", "校验码错误"),
    ("51010419900101001", "长度错误"),
    ("5101041990010100A9", "格式错误"),
    ("510104199002300018", "出生日期无效"),    # 1990-02-30, with a correct check digit
    ("510104203001010018", "出生日期无效"),    # born after the day it was loaded
    ("990104199001010018", None),              # unknown region: still valid (a warning elsewhere)
])
def test_id_problem(conn, id_number, problem):
    assert one(conn, "id_check_digit(left(?, 17)) = right(?, 1) OR ? IS NOT NULL", id_number, id_number, problem)
    assert one(conn, "id_problem(?, DATE '2024-06-01')", id_number) == problem
    assert one(conn, "id_valid(?, DATE '2024-06-01')", id_number) is (problem is None)


def test_id_parts_region_and_masks(conn):
    assert one(conn, "id_birth_date('510104199001010019')") == dt.date(1990, 1, 1)
    assert one(conn, "id_sex('510104199001010019')") == "男"
    assert one(conn, "id_sex('11010519491231002X')") == "女"
    assert one(conn, "id_sex('510104199001010018')") is None          # derived from valid IDs only
    assert one(conn, "id_region_known('510104199001010019')") is True
    assert one(conn, "id_region_known('110103194912310027')") is True  # 崇文区, abolished 2010
    assert one(conn, "id_region_known('990104199001010018')") is False
    assert one(conn, "id_mask('510104199001010019')") == "510104********0019"
    assert one(conn, "phone_mask('13812341234')") == "138****1234"


@pytest.mark.parametrize("text, mangled", [
    ("5.10104E+17", True), ("5.10104199001011E17", True), ("510104199001011000", True),
    ("510104199001010019", False),
    ("510104199001010000", False),   # ends in 000, but 0 is its right check digit: a real ID
])
def test_id_excel_mangled(conn, text, mangled):
    assert one(conn, "id_excel_mangled(?)", text) is mangled


@pytest.mark.parametrize("raw, name", [
    ("张 三", "张三"), ("　张三　", "张三"), ("阿卜杜•买买提", "阿卜杜·买买提"), ("阿卜杜・买买提", "阿卜杜·买买提"),
    ("阿卜杜.买买提", "阿卜杜·买买提"), ("Ｊｏｈｎ", "John"), ("", None),
])
def test_name_normalize(conn, raw, name):
    assert one(conn, "name_normalize(?)", raw) == name


@pytest.mark.parametrize("raw, phone", [
    ("138-1234-1234", "13812341234"), ("+86 138 1234 1234", "13812341234"), ("8613812341234", "13812341234"),
    ("028-8765 4321", "02887654321"), ("１３８１２３４１２３４", "13812341234"), ("无", None),
])
def test_phone_normalize(conn, raw, phone):
    assert one(conn, "phone_normalize(?)", raw) == phone


def test_phone_mask_never_shows_a_short_number_whole(conn):
    assert one(conn, "phone_mask('8765432')") == "*******"
    assert one(conn, "phone_mask('')") == ""
    assert one(conn, "phone_mask(NULL)") is None
