"""Every rule code that can reach the stewards' queue has a Chinese name (pipelines/quality/rules.py)."""
from __future__ import annotations

import json
import re

from pipelines.paths import SQL_DIR
from pipelines.quality.rules import RULE_TITLES, rule_title

ROOT = SQL_DIR.parent


def _expectation_rules() -> set[str]:
    rules = set()
    for path in (ROOT / "expectations").glob("*.json"):
        for e in json.loads(path.read_text(encoding="utf-8")).get("expectations", []):
            if (e.get("meta") or {}).get("rule"):
                rules.add(e["meta"]["rule"])
    return rules


def _row_check_rules() -> set[str]:
    text = (SQL_DIR / "raw" / "row_checks.sql").read_text(encoding="utf-8")
    return set(re.findall(r"check\([^,]+, '([a-z_]+)'", text)) | {"column_unknown"}


def test_every_queue_rule_has_a_chinese_name():
    expectation = _expectation_rules()
    row = _row_check_rules()
    assert len(expectation) > 20 and {"date_invalid", "id_invalid", "sex_conflict"} <= row
    linkage = {"link_ambiguous", "link_unlinkable", "link_likely_twin", "link_household_member",
               "address_no_match", "address_multi_match"}
    missing = sorted((expectation | row | linkage) - set(RULE_TITLES))
    assert not missing, f"rules without a name in pipelines/quality/rules.py: {missing}"


def test_names_are_unique_and_short_enough_for_a_sheet_title():
    titles = list(RULE_TITLES.values())
    assert len(titles) == len(set(titles))
    assert all(len(t) <= 31 and not re.search(r"[\[\]:*?/\\]", t) for t in titles)


def test_unknown_code_is_shown_not_hidden():
    assert rule_title("some_new_rule") == "some_new_rule"
    assert rule_title("id_invalid") == "身份证号无效"
