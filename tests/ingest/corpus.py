"""A corpus of inbox files as offices really send them, broken in every way met so far, each with
the answer the inbox owes the clerk (tests/ingest/test_corpus.py).

Every case is one file (or folder) written by code, except two workbooks no library here can
write (tests/ingest/files/: an Excel 97-2003 .xls and a password-protected .xlsx, made by
tests/ingest/files/make_files.py). A case says what becomes of the file (loaded / rejected /
duplicate / ignored), words its message must hold, and for a loaded file the rows loaded and
refused and the row errors (row, rule, field) the clerk is told about.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import openpyxl
from openpyxl.cell.cell import TYPE_ERROR

from pipelines.demo.world import id_strings
from tests.ingest.conftest import RESIDENT_HEADER, resident, write_csv, write_xlsx

FILES = Path(__file__).parent / "files"


def valid_id(body: str) -> str:
    """A valid 18-character resident ID for a 17-digit body."""
    return id_strings(np.array([int(body)]))[0]


@dataclass
class Case:
    path: str                                   # relative to the inbox; a folder ends in /
    write: Callable[[Path], None] | None        # writes the file at the given absolute path (None: a folder)
    outcome: str                                # loaded / rejected / duplicate / ignored / template
    says: tuple[str, ...] = ()                  # in the file's message (raw.inbox_files.message)
    rows: tuple[int, int] | None = None         # loaded: (rows loaded, rows refused)
    errors: tuple[tuple[int | None, str, str | None], ...] = ()   # (row, rule, field) among its row errors
    error_says: dict[str, str] = field(default_factory=dict)       # rule -> words in that error's message
    what: str = ""


def csv_bytes(header: list[str], rows: list[list], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([header, *rows])
    return buf.getvalue().encode(encoding)


def put(data: bytes) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return write


def good_rows(n: int, start: int = 1) -> list[list[str]]:
    return [resident(i, name=f"居民{i}", id_number=valid_id(f"51010419900101{i:03d}")) for i in range(start, start + n)]


def residents_csv(rows: list[list[str]], encoding: str = "utf-8", header: list[str] = RESIDENT_HEADER):
    return put(csv_bytes(header, rows, encoding))


def text_file(text: str, encoding: str = "utf-8"):
    return put(text.encode(encoding))


def workbook(build: Callable[[openpyxl.Workbook], None]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        wb = openpyxl.Workbook()
        build(wb)
        wb.save(path)
    return write


def rows_xlsx(rows: list[list]) -> Callable[[Path], None]:
    return lambda path: write_xlsx(path, rows)


def copy_of(name: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FILES / name, path)
    return write


def _broken_quote_middle() -> bytes:
    lines = [",".join(RESIDENT_HEADER)] + [",".join(r) for r in good_rows(2)]
    bad = good_rows(1, start=3)[0]
    bad[1] = '"王' + bad[1]          # a quote opened, never closed
    lines.append(",".join(bad))
    lines += [",".join(r) for r in good_rows(2, start=4)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _broken_quote_last() -> bytes:
    lines = [",".join(RESIDENT_HEADER)] + [",".join(r) for r in good_rows(3)]
    bad = good_rows(1, start=4)[0]
    bad[8] = '"党员,志愿者'
    lines.append(",".join(bad))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _extra_fields() -> bytes:
    rows = good_rows(3)
    rows[1] = rows[1][:9] + ["锦江区", "某路1号"] + rows[1][9:]   # an unquoted comma split one value in two
    return csv_bytes(RESIDENT_HEADER, rows)


def _formulas(wb: openpyxl.Workbook) -> None:
    ws = wb.active
    ws.append(RESIDENT_HEADER)
    for r in good_rows(3):
        ws.append(r)
    ws["J3"] = "=DATE(2024,3,5)"       # 采集日期 of row 3: a formula openpyxl saves without its result
    ws["B4"] = '=CONCATENATE("王","五")'   # 姓名 of row 4 (required): refused as a formula, not as empty


def _error_cells(wb: openpyxl.Workbook) -> None:
    ws = wb.active
    ws.append(RESIDENT_HEADER)
    for r in good_rows(4):
        ws.append(r)
    for ref, value in (("J3", "#N/A"), ("C4", "#VALUE!"), ("E5", "#REF!")):
        ws[ref] = value
        ws[ref].data_type = TYPE_ERROR


def _second_sheet(wb: openpyxl.Workbook) -> None:
    wb.active.title = "Sheet1"
    ws = wb.create_sheet("人员名单")
    ws.append(RESIDENT_HEADER)
    for r in good_rows(2):
        ws.append(r)


def _deep_header(wb: openpyxl.Workbook) -> None:
    ws = wb.active
    for line in ("XX社区实有人口采集表", "填报单位：XX社区", "填报人：张三", "联系电话：", "填报日期：2024年5月",
                 "说明：本表按季度更新", ""):
        ws.append([line] if line else [])
    ws.append(RESIDENT_HEADER)
    for r in good_rows(2):
        ws.append(r)


def _five_title_rows(wb: openpyxl.Workbook) -> None:
    ws = wb.active
    for line in ("XX社区实有人口采集表", "填报日期：2024年5月", "", "单位：人", "制表：社区居委会"):
        ws.append([line] if line else [])
    ws.append([f"  {h} " for h in RESIDENT_HEADER])   # stray spaces around the headers
    for r in good_rows(3):
        ws.append(r)
    ws.append(["合计", "3人"])
    ws.append([])
    ws.append([])


def _dates(wb: openpyxl.Workbook) -> None:
    ws = wb.active
    ws.append(RESIDENT_HEADER)
    spellings = ["2024-03-05", "2024/3/5", "2024.03.05", "20240305", "2024年3月5日", dt.date(2024, 3, 5), 45356,
                 "2024-13-05"]
    for i, when in enumerate(spellings, start=1):
        row = good_rows(1, start=i)[0]
        row[9] = when
        ws.append(row)


def _ids_and_codes(wb: openpyxl.Workbook) -> None:
    ws = wb.active
    ws.append(["记录编号", "姓名", "身份证号码", "性别", "出生日期", "房屋编码", "人员类别", "采集日期"])   # an alias
    ws.append(["R1", "张三", "5.10104E+17", "男", "1990-01-01", "0001", "户籍人口", "2024-03-05"])
    ws.append(["R2", "李四", 510104199001011000, "男", "1990-01-01", "0002", "户籍人口", "2024-03-05"])
    ws.append(["R3", "王五", valid_id("51010419900101003"), "男", "1990-01-01", "000３", "户籍人口", "2024-03-05"])


def _duplicate_column() -> bytes:
    header = [*RESIDENT_HEADER, "身份证号"]
    rows = [r + [r[2]] for r in good_rows(3)]
    rows[1][-1] = valid_id("51010419991231001")   # the two ID columns disagree on row 3
    return csv_bytes(header, rows)


def _quoted() -> bytes:
    rows = good_rows(3)
    rows[0][8] = "党员,志愿者"          # a comma inside quotes
    rows[1][1] = "李\n四"               # a line break inside quotes: one record, two lines
    return csv_bytes(RESIDENT_HEADER, rows)


def _zip_named_xlsx(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("实有人口.csv", csv_bytes(RESIDENT_HEADER, good_rows(2)))


def _truncated_xlsx(path: Path) -> None:
    full = path.with_suffix(".tmp")
    write_xlsx(full, [RESIDENT_HEADER, *good_rows(2)])
    path.write_bytes(full.read_bytes()[:1500])
    full.unlink()


def _csv_that_is_a_workbook(path: Path) -> None:
    write_xlsx(path.with_suffix(".xlsx.tmp"), [RESIDENT_HEADER, *good_rows(2)])
    path.with_suffix(".xlsx.tmp").rename(path)


HUKOU_HEADER = ["公民身份号码", "姓名", "户籍地址", "户籍状态"]
BIG5_HEADER = ["記錄編號", "姓名", "公民身份號碼", "性別", "出生日期", "房屋編碼", "人員類別", "採集日期"]
GOOD = good_rows(2)
LATIN1_MOJIBAKE = csv_bytes(RESIDENT_HEADER, GOOD).decode("latin-1")      # shown as Latin-1, saved as UTF-8

CASES: list[Case] = [
    # --- files that are no batch -------------------------------------------------------------
    Case("residents/老系统导出.txt", residents_csv(GOOD), "ignored", ("不支持 .txt 文件", ".xlsx"),
         what="a text export"),
    Case("residents/名单.json", text_file('[{"姓名": "张三"}]'), "ignored", ("不支持 .json 文件",), what="JSON"),
    Case("居民/a.csv", residents_csv(GOOD), "ignored", ("文件夹 居民 不是采集模板", "residents"),
         what="a file in a folder that is no template"),
    Case("居民/", None, "ignored", ("文件夹 居民 不是采集模板", "1 个文件都未导入"), what="that folder"),
    Case("实有人口.csv", residents_csv(GOOD), "ignored", ("收件箱根目录",), what="a file in the inbox root"),
    Case("residents/~$金沙社区.xlsx", put(b"\x00" * 165), "ignored", ("临时文件",), what="Excel's lock file"),
    Case("residents/.~lock.金沙社区.xlsx#", put(b"x"), "ignored", ("临时文件",), what="LibreOffice's lock file"),
    Case(".DS_Store", put(b"\x00\x00\x00\x01Bud1"), "ignored", ("隐藏文件",), what="a Mac's folder file"),
    Case("__MACOSX/", None, "ignored", ("隐藏文件夹",), what="a Mac's zip leftovers"),
    Case("__MACOSX/residents/._a.csv", put(b"\x00\x05\x16\x07"), None, what="inside it: never read, never listed"),
    Case("residents/原始.csv", residents_csv(good_rows(2, start=50)), "loaded", rows=(2, 0),
         what="a file dropped twice under two names: the first loads"),
    Case("residents/原始_副本.csv", residents_csv(good_rows(2, start=50)), "duplicate",
         ("与批次 #", "residents/原始.csv", "内容完全相同"), what="… the second is a duplicate of that batch"),
    # --- files refused whole, for a reason the clerk can fix -----------------------------------
    Case("residents/导出.xls", residents_csv(GOOD), "rejected", ("扩展名是 .xls", "内容是文本", ".csv"),
         what="a CSV named .xls"),
    Case("residents/网页导出.xls", text_file("<html><body><table><tr><td>姓名</td></tr></table></body></html>"),
         "rejected", ("网页（HTML）", "另存为 .xlsx"), what="an HTML page named .xls, as web systems export"),
    Case("residents/压缩包.xlsx", _zip_named_xlsx, "rejected", ("压缩包", "解压"), what="a zip renamed .xlsx"),
    Case("residents/下载不完整.xlsx", _truncated_xlsx, "rejected", ("损坏或不完整",), what="a truncated workbook"),
    Case("residents/加密.xlsx", copy_of("加密.xlsx"), "rejected", ("打开密码",), what="a password-protected workbook"),
    Case("residents/其实是表格.csv", _csv_that_is_a_workbook, "rejected", ("内容是 Excel 工作簿", ".xlsx"),
         what="a workbook named .csv"),
    Case("residents/空文件.csv", put(b""), "rejected", ("文件是空的",), what="an empty file"),
    Case("residents/Unicode文本.csv", put(b"\xff\xfe" + "姓名\t公民身份号码\r\n".encode("utf-16-le")), "rejected",
         ("UTF-16",), what="Excel's 'Unicode text'"),
    Case("residents/繁体.csv", put(csv_bytes(BIG5_HEADER, [["T1", "陳大文", valid_id("81000019900101001"), "男",
                                                          "1990-01-01", "H001", "流動人口", "2024-03-05"]], "big5")),
         "rejected", ("Big5",), what="a Big5 (traditional Chinese) file"),
    Case("residents/乱码1.csv", text_file(LATIN1_MOJIBAKE), "rejected", ("乱码", "Latin-1"),
         what="UTF-8 read as Latin-1 and saved again"),
    Case("residents/乱码2.csv", text_file(csv_bytes(RESIDENT_HEADER, GOOD).decode("utf-8").encode("utf-8")
                                         .decode("gbk", errors="replace")), "rejected", ("乱码", "GBK"),
         what="UTF-8 read as GBK and saved again as UTF-8"),
    Case("residents/锟斤拷.csv", text_file(",".join("锟斤拷" for _ in RESIDENT_HEADER) + "\r\n1,2\r\n"), "rejected",
         ("锟斤拷", "重新导出"), what="text damaged beyond repair"),
    Case("residents/制表符.csv", text_file(csv_bytes(RESIDENT_HEADER, GOOD).decode().replace(",", "\t")), "rejected",
         ("制表符",), what="tab-separated"),
    Case("residents/数据在第二页.xlsx", workbook(_second_sheet), "rejected",
         ("第一个工作表“Sheet1”是空的", "第二个工作表“人员名单”"), what="the data on the second sheet"),
    Case("residents/标题太多.xlsx", workbook(_deep_header), "rejected", ("表头在第8行", "7 行标题"),
         what="seven title rows"),
    Case("residents/不认识的表.csv", put(csv_bytes(["甲", "乙"], [["1", "2"]])), "rejected",
         ("未找到任何已知列", "必填列为：姓名、房屋编码、人员类别、采集日期"), what="headers of no template"),
    Case("residents/缺列.xlsx", rows_xlsx([RESIDENT_HEADER[:-1], *(r[:-1] for r in GOOD)]), "rejected",
         ("缺少必填列：采集日期",), what="a required column missing (contract §1)"),
    Case("residents/户籍.csv", put(csv_bytes(HUKOU_HEADER, [[valid_id("51010419900101004"), "张三", "某路1号", "正常"]])),
         "rejected", ("应放在 hukou 文件夹",), what="a file in the wrong folder"),
    # --- files that load, with the rows they cannot keep refused one by one -------------------
    Case("residents/引号未闭合.csv", put(_broken_quote_middle()), "loaded", rows=(4, 1),
         errors=((4, "quote_broken", None),), error_says={"quote_broken": "第4行 引号不成对"},
         what="a quote never closed, mid-file: that row refused, the rest loads"),
    Case("residents/末行引号.csv", put(_broken_quote_last()), "loaded", rows=(3, 1),
         errors=((5, "quote_broken", None),), what="a quote never closed on the last row"),
    Case("residents/控制字符.csv", residents_csv([*good_rows(1), resident(2, name="张\x00三"),
                                              resident(3, name="李\x07四")]), "loaded", rows=(1, 2),
         errors=((3, "control_char", "姓名"), (4, "control_char", "姓名")),
         error_says={"control_char": "不可见的控制字符（U+00"}, what="NUL and BEL inside names"),
    Case("residents/超长.csv", residents_csv([*good_rows(1), resident(2, name="张" * 34200)]), "loaded", rows=(1, 1),
         errors=((3, "too_long", "姓名"),), error_says={"too_long": "长 34200 个字符，超过上限 50"},
         what="a 34,200-character name"),
    Case("residents/多出的值.csv", put(_extra_fields()), "loaded", rows=(2, 1),
         errors=((3, "extra_field", None),), error_says={"extra_field": "第11列、第12列 有值却没有表头"},
         what="a row with more values than the header"),
    Case("residents/公式.xlsx", workbook(_formulas), "loaded", rows=(1, 2),
         errors=((3, "formula_no_value", "采集日期"), (4, "formula_no_value", "姓名")),
         error_says={"formula_no_value": "没有保存计算结果"}, what="formulas without a saved result"),
    Case("residents/错误值.xlsx", workbook(_error_cells), "loaded", rows=(1, 3),
         errors=((3, "cell_error", "采集日期"), (4, "cell_error", "公民身份号码"), (5, "cell_error", "出生日期")),
         error_says={"cell_error": "Excel 的错误值"}, what="#N/A, #VALUE!, #REF! cells"),
    Case("residents/文本错误值.csv", residents_csv([*good_rows(1), resident(2, collected="#N/A")]), "loaded",
         rows=(1, 1), errors=((3, "cell_error", "采集日期"),), what="#N/A written into a CSV by an export"),
    Case("residents/重复列.csv", put(_duplicate_column()), "loaded", rows=(2, 1),
         errors=((None, "column_duplicate", None), (3, "column_duplicate", "公民身份号码")),
         error_says={"column_duplicate": "公民身份号码"}, what="a column headed twice (公民身份号码 and its alias)"),
    Case("residents/老版本.xls", copy_of("老版本.xls"), "loaded", rows=(2, 2),
         errors=((5, "id_numeric_cell", "公民身份号码"), (6, "cell_error", "采集日期")),
         what="an Excel 97-2003 workbook: read, its number-typed ID and #N/A refused"),
    # --- contract §1, each case of it ----------------------------------------------------------
    Case("residents/utf8.csv", residents_csv(good_rows(2, start=10)), "loaded", rows=(2, 0), what="UTF-8"),
    Case("residents/utf8bom.csv", residents_csv(good_rows(2, start=12), encoding="utf-8-sig"), "loaded", rows=(2, 0),
         what="UTF-8 with BOM"),
    Case("residents/gbk.csv", residents_csv(good_rows(2, start=14), encoding="gbk"), "loaded", rows=(2, 0), what="GBK"),
    Case("residents/gb18030.csv", residents_csv([resident(16, name="𠮷祥", id_number=valid_id("51010419900101016"))],
                                                encoding="gb18030"), "loaded", rows=(1, 0), what="GB18030"),
    Case("residents/引号.csv", put(_quoted()), "loaded", rows=(3, 0), what="quoted commas and line breaks"),
    Case("residents/标题行.xlsx", workbook(_five_title_rows), "loaded", rows=(3, 0),
         what="five title rows, spaces around headers, a 合计 row, trailing blank rows"),
    Case("residents/日期.xlsx", workbook(_dates), "loaded", rows=(7, 1), errors=((9, "date_invalid", "采集日期"),),
         error_says={"date_invalid": '第9行 采集日期 "2024-13-05" 不是有效日期'},
         what="every date spelling, an Excel date cell and serial; an impossible date refused by row"),
    Case("residents/编码.xlsx", workbook(_ids_and_codes), "loaded", rows=(1, 2),
         errors=((2, "id_numeric_cell", "公民身份号码"), (3, "id_numeric_cell", "公民身份号码")),
         what="IDs Excel turned into numbers; leading zeros of codes kept; an alias header"),
    Case("residents/子文件夹/补录.csv", residents_csv(good_rows(1, start=30)), "loaded", rows=(1, 0),
         what="a file in a subfolder of a template folder"),
    Case("residents/子文件夹/", None, "template", what="that subfolder"),
    Case("residents/", None, "template", what="a template folder"),
]


def write_corpus(inbox: Path) -> list[Case]:
    for case in CASES:
        target = inbox / case.path
        if case.write is None:
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            case.write(target)
    return CASES
