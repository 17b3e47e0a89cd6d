"""The portal offers an extract as a workbook first (a person downloading gets XLSX unless they choose), and a CSV
for a double-click named .csv like the plain one."""
from __future__ import annotations

import re
from urllib.parse import quote

from tests.web.test_portal_http import logged_in


def test_xlsx_is_the_default_and_the_double_click_csv_is_offered(app):
    c = logged_in(app, "jiedao")
    page = c.get("/extracts").text
    first = re.search(r'<select name="fmt"><option value="([^"]+)">', page)
    assert first and first.group(1) == "xlsx"
    assert "CSV（Excel、WPS 双击打开）" in page and "CSV（供程序读取）" in page
    r = c.get("/extracts/download?name=grid-population&fmt=csv-excel&as_of=2026-10-31&scope=S1")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert quote("网格人口统计_") in r.headers["content-disposition"] and ".csv" in r.headers["content-disposition"]
    assert r.content.decode("utf-8-sig").startswith('"区县代码","街道代码"')   # the contents: tests/publish/test_spreadsheet_csv.py
    assert c.get("/extracts/download?name=grid-population&fmt=csv-xls&as_of=2026-10-31&scope=S1").status_code == 400
