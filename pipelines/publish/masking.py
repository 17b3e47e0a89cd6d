"""Masking: the one place that decides how a personal value is shown in any output.

Every column an output can carry has a class (``classes`` in reports/extracts.yaml, keyed by the Chinese column
name): ``id`` (an ID number, or a value that can hold one: 残疾证号 is the ID plus two digits, 居住证号码 and
产权人身份证号 often are the ID, free-text 备注), ``phone``, ``name``, ``address`` or ``other``. A grant's
:class:`Masking` (reports/departments.yaml) says per class how values are shown; the default is 前6后4 for IDs,
the middle four digits hidden for phones, names and addresses in full.

Two steps, in every output:

1. *The class rule* (:func:`column_sql` in DuckDB over the macros ``id_mask``/``id_mask_text`` of
   sql/macros/id_number.sql and ``phone_mask``/``phone_scrub``/``name_mask`` of sql/macros/text.sql; its twin
   :func:`mask_class` in Python).
2. *The scrub* of every other text (name, address, other): an ID number with a valid check character and birth
   date found anywhere inside it (also inside a longer run of digits) is masked like an ID, a mobile number
   standing on its own like a phone — so a 记录编号, an 依据 or an error message that quotes an ID does not hand
   it out (:func:`mask_text`; :func:`scrub_arrow` for Arrow data, where a regular expression picks the few
   cells worth looking at).

:func:`mask_value` is both steps for one value: report cells, queue pages, messages, logs, Data Docs.
tests/publish/test_masking.py holds the SQL and the Python to the same answers.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

CLASSES = ("id", "phone", "name", "address", "other")
ID_MODES = ("前6后4", "全文", "隐藏")
PHONE_MODES = ("中间四位", "全文", "隐藏")
NAME_MODES = ("全文", "姓氏", "隐藏")       # 姓氏: 张** (the surname and one star per further character)
ADDRESS_MODES = ("全文", "隐藏")
MODES = {"id": ID_MODES, "phone": PHONE_MODES, "name": NAME_MODES, "address": ADDRESS_MODES}
HIDDEN = "（不提供）"


@dataclass(frozen=True)
class Masking:
    """How one grant shows each class of value."""
    id: str = "前6后4"
    phone: str = "中间四位"
    name: str = "全文"
    address: str = "全文"

    def __post_init__(self):
        for cls, modes in MODES.items():
            if getattr(self, cls) not in modes:
                raise ValueError(f"脱敏方式 {cls}: {getattr(self, cls)!r} 无效（可选：{'、'.join(modes)}）")

    @classmethod
    def of(cls, raw: dict | None, base: "Masking | None" = None) -> "Masking":
        """``{id: 全文, ...}`` over ``base`` (default: the defaults above)."""
        b = base or cls()
        raw = raw or {}
        unknown = set(raw) - set(MODES)
        if unknown:
            raise ValueError(f"脱敏方式中有未知的类别：{sorted(unknown)}（可用：{'、'.join(MODES)}）")
        return cls(**{k: raw.get(k, getattr(b, k)) for k in MODES})

    def mode(self, cls: str) -> str | None:
        return getattr(self, cls) if cls in MODES else None

    @property
    def scrubs(self) -> bool:
        """Whether free text is scrubbed of IDs/phones: not when the grant shows both in full."""
        return not (self.id == "全文" and self.phone == "全文")



DEFAULT = Masking()


def describe(cls: str, m: Masking) -> str:
    """The 脱敏 entry of a column's 数据字典 line: the mode of an ID or phone column always, of a name or
    address column when it is not shown in full."""
    mode = m.mode(cls)
    if cls in ("id", "phone") or (mode and mode != "全文"):
        return mode or ""
    return ""


# ------------------------------------------------------------------------------------------------ SQL

def _hidden_sql(expr: str) -> str:
    return f"CASE WHEN {expr} IS NULL THEN NULL ELSE '{HIDDEN}' END"


def column_sql(expr: str, cls: str, m: Masking) -> str:
    """SQL showing column ``expr`` of class ``cls`` as grant ``m`` allows (the class rule; Python twin:
    :func:`mask_class`). Text of classes other than id and phone is scrubbed afterwards (:func:`scrub_arrow`)."""
    mode = m.mode(cls)
    if cls == "id" and mode != "全文":
        if mode == "隐藏":
            return _hidden_sql(expr)
        # a code is masked whole; free text keeps its words, its long digit runs and phones masked
        return f"id_mask_text({expr})" if m.phone == "全文" else \
            f"phone_scrub(id_mask_text({expr}), {'true' if m.phone == '隐藏' else 'false'})"
    if cls == "phone" and mode != "全文":
        return _hidden_sql(expr) if mode == "隐藏" else f"phone_mask({expr})"
    if cls == "name" and mode != "全文":
        return _hidden_sql(expr) if mode == "隐藏" else f"name_mask({expr})"
    if cls == "address" and mode != "全文":
        return _hidden_sql(expr)
    return expr


# ------------------------------------------------------------------------------------------------ Python

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_DIGITS = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")
# The same patterns as the SQL macros, so both find the same things.
_RUN18 = re.compile(r"[0-9Xx]{18,}")
_HAS17 = re.compile(r"[0-9０-９]{17}")
# a mobile number stands on its own: not inside a longer run of digits, nor glued to ASCII letters (a
# batch's SHA-256 in hex holds runs of digits that look like one)
_PHONE = re.compile(r"(?<![0-9A-Za-z])(1[3-9][0-9])([0-9]{4})([0-9]{4})(?![0-9A-Za-z])")
# cells worth a look, for Arrow's regular expressions (RE2, no look-around): a superset of what mask_text masks
_CANDIDATE = r"[0-9０-９]{17}|(^|[^0-9A-Za-z])[1１][3-9３-９][0-9０-９]{9}($|[^0-9A-Za-z])"
_LONG = re.compile(r"([0-9]{6})[0-9]{5,}([0-9]{3}[0-9Xx])")
# what sql's id_compact drops from an ID as typed; a value that is then only digits and letters is a code
_SEPARATORS = re.compile(r"[ \t\n\r\f\v\-_—–]")
_FULLWIDTH = {**{c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}, 0x3000: 0x20}
_CODE = re.compile(r"[0-9A-Za-z]*")


def fold_digits(text: str) -> str:
    """Full-width digits and X as ASCII (sql: digits_fold)."""
    return text.translate(_DIGITS)


def id_check_char(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _W)) % 11]


def is_valid_id(s: str, today: dt.date | None = None) -> bool:
    """An 18-character ID with the right check character and a birth date from 1900 to today (sql: id_valid)."""
    if len(s) != 18 or not s[:17].isascii() or not s[:17].isdigit() or s[17] not in "0123456789Xx":
        return False
    if id_check_char(s[:17]) != s[17].upper():
        return False
    try:
        born = dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    return dt.date(1900, 1, 1) <= born <= (today or dt.date.today())


def ids_in(text: str) -> list[str]:
    """Every valid ID inside ``text``, also inside a longer run of digits: each 18-character window of each
    run of 18 or more digits (full-width digits count) is tried."""
    found: list[str] = []
    for run in _RUN18.findall(fold_digits(text)):
        for i in range(len(run) - 17):
            w = run[i:i + 18]
            if is_valid_id(w) and w not in found:
                found.append(w)
    return found


def mask_id(value: str) -> str:
    """前6后4 of the whole value (sql: id_mask): 510104********0019; 10 characters or fewer: all stars."""
    n = len(value)
    return value[:6] + "*" * (n - 10) + value[-4:] if n > 10 else "*" * n


def mask_phone(value: str) -> str:
    """138****1234 (sql: phone_mask); fewer than 8 characters: all stars."""
    n = len(value)
    return value[:3] + "*" * (n - 7) + value[-4:] if n >= 8 else "*" * n


def mask_name(value: str) -> str:
    """张** (sql: name_mask)."""
    return value[:1] + "*" * (len(value) - 1)


def _phone_scrub(text: str, hide: bool) -> str:
    """sql: phone_scrub."""
    folded = fold_digits(text)
    if not _PHONE.search(folded):
        return text
    return _PHONE.sub((lambda m: "*" * 11) if hide else (lambda m: m[1] + "****" + m[3]), folded)


def _id_scrub(text: str, hide: bool) -> str:
    if not _HAS17.search(text):
        return text
    found = ids_in(text)
    if not found:
        return text
    out = fold_digits(text)
    for w in found:
        out = out.replace(w, "*" * 18 if hide else mask_id(w))
    return out


def mask_text(text, m: Masking = DEFAULT):
    """Any text with the valid IDs and lone mobile numbers inside it masked per ``m``; None and values that
    are not text come back unchanged."""
    if not isinstance(text, str):
        return text
    if m.phone != "全文":
        text = _phone_scrub(text, m.phone == "隐藏")
    if m.id != "全文":
        text = _id_scrub(text, m.id == "隐藏")
    return text


def mask_class(value, cls: str, m: Masking = DEFAULT):
    """The class rule for one value (sql: column_sql)."""
    if value is None or not isinstance(value, str):
        return value
    mode = m.mode(cls)
    if cls == "id" and mode != "全文":
        if mode == "隐藏":
            return HIDDEN
        if _CODE.fullmatch(_SEPARATORS.sub("", value.translate(_FULLWIDTH))):
            return mask_id(value)
        value = _LONG.sub(r"\1********\2", fold_digits(value))
        return _phone_scrub(value, m.phone == "隐藏") if m.phone != "全文" else value
    if cls == "phone" and mode != "全文":
        return HIDDEN if mode == "隐藏" else mask_phone(value)
    if cls == "name" and mode != "全文":
        return HIDDEN if mode == "隐藏" else mask_name(value)
    if cls == "address" and mode != "全文":
        return HIDDEN
    return value


def mask_value(value, cls: str, m: Masking = DEFAULT):
    """One value of class ``cls`` as grant ``m`` shows it: the class rule, then the scrub of any other text."""
    value = mask_class(value, cls, m)
    return value if cls in ("id", "phone") else mask_text(value, m)


def scrub_arrow(data, classes: dict[str, str], m: Masking = DEFAULT):
    """A pyarrow Table or RecordBatch with its text columns of classes other than id and phone scrubbed
    (:func:`mask_text`); ``classes``: column -> class. Only the cells a regular expression picks out (17
    digits in a row, or a lone 1[3-9]… of 11) go through Python."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not m.scrubs:
        return data
    columns = list(data.columns)
    changed = False
    for i, name in enumerate(data.schema.names):
        col = columns[i]
        if classes.get(name, "other") in ("id", "phone") or not pa.types.is_string(col.type):
            continue
        hits = pc.fill_null(pc.match_substring_regex(col, _CANDIDATE), False)
        if not pc.any(hits).as_py():
            continue
        values = col.to_pylist()
        for j in pc.indices_nonzero(hits).to_pylist():
            values[j] = mask_text(values[j], m)
        columns[i] = pa.array(values, type=col.type)
        changed = True
    if not changed:
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.RecordBatch.from_arrays(columns, schema=data.schema)
    return pa.Table.from_arrays(columns, schema=data.schema)


def scrub_reader(reader, classes: dict[str, str], m: Masking = DEFAULT):
    """:func:`scrub_arrow` over a stream of record batches (an extract too big to hold)."""
    import pyarrow as pa

    if not m.scrubs:
        return reader
    return pa.RecordBatchReader.from_batches(reader.schema, (scrub_arrow(b, classes, m) for b in reader))


def mask_quoting(text, values: dict[str, str], m: Masking = DEFAULT):
    """A message that quotes cells: each quoted value (value -> its class) replaced by its masked form, then the
    whole text scrubbed. For messages built where the cell was known, e.g. ``第12行 公民身份号码 "…" 校验码错误``."""
    if not isinstance(text, str):
        return text
    for value, cls in sorted(values.items(), key=lambda kv: -len(kv[0] or "")):
        if value and len(value) >= 4:
            shown = mask_value(value, cls, m)
            if shown != value:
                text = text.replace(value, shown)
    return mask_text(text, m)
