"""Checks on an uploaded fixes workbook before openpyxl sees it: size, and the zip inside an XLSX.

An XLSX is a zip; a few kilobytes can inflate to gigabytes (a zip bomb). The zip's directory states
every member's uncompressed size, and Python's zipfile never inflates a member past that size, so
checking the directory bounds what openpyxl can be made to read. XML entity tricks are handled by
defusedxml, which openpyxl uses when it is installed.
"""
from __future__ import annotations

import io
import zipfile

MAX_UPLOAD_BYTES = 5 * 1024 * 1024          # a steward's workbook is a few hundred KB
MAX_UNCOMPRESSED_BYTES = 60 * 1024 * 1024
MAX_RATIO = 200                             # spreadsheet XML compresses well, but not like a bomb
MAX_MEMBERS = 500


class UploadRefused(Exception):
    """``str(exc)`` is the message shown to the steward."""


def check_xlsx(data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
    if len(data) > max_bytes:
        raise UploadRefused(f"文件太大（{len(data) // 1024} KB），上传上限为 {max_bytes // 1024} KB。"
                            "请只上传从本系统下载的问题修正表。")
    if not data:
        raise UploadRefused("上传的文件是空的。")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        members = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise UploadRefused("文件不是有效的 Excel（.xlsx）文件。") from None
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise UploadRefused("文件不是有效的 Excel（.xlsx）文件。")
    if len(members) > MAX_MEMBERS:
        raise UploadRefused("文件结构异常（内部文件过多），已拒收。")
    total = 0
    for m in members:
        if m.flag_bits & 0x1:
            raise UploadRefused("文件已加密，请上传未加密的问题修正表。")
        total += m.file_size
        if m.file_size > MAX_UNCOMPRESSED_BYTES or total > MAX_UNCOMPRESSED_BYTES:
            raise UploadRefused("文件解压后过大（疑似压缩炸弹），已拒收。")
        if m.file_size > 1024 * 1024 and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise UploadRefused("文件压缩比异常（疑似压缩炸弹），已拒收。")
