"""`onceonly explain`: why a person has the status they have on D, in words a clerk reads.

It runs the same status views as ``build_status`` limited to one person, so the explanation
can never disagree with core.person_status for the same D and window.
"""
from __future__ import annotations

import datetime as dt
import unicodedata

import duckdb

from pipelines.store import dicts, table_exists

TEMPLATE_TITLES = {
    "residents": "实有人口", "visits": "走访记录", "hukou": "户籍人口", "floating": "流动人口",
    "assistance": "社会救助", "deaths": "死亡登记", "disability": "残疾人",
}
KIND_TITLES = (
    ("presence", "在住证据"), ("departure", "离开证据"), ("death", "死亡证据"),
    ("deregistration", "流动人口注销（原因未填写：不再算在住，也不算离开证据）"),
    ("registration", "户籍登记（正常，不算在住证据）"), ("other", "其他记录（不影响状态）"),
)


def _mask(conn: duckdb.DuckDBPyConnection, id_number: str | None) -> str:
    if not id_number:
        return "（无）"
    return conn.execute("SELECT id_mask(?)", [id_number]).fetchall()[0][0]


def _where(file_name: str | None, template: str, row_no: int) -> str:
    return f"{file_name or TEMPLATE_TITLES.get(template, template)} 第{row_no}行"


def resolve_person(conn: duckdb.DuckDBPyConnection, key_or_id: str) -> str:
    """A 人员主键, an ID number (any spelling) or a record key → the person_key."""
    text = key_or_id.strip()
    folded = "".join(unicodedata.normalize("NFKC", text).split()).replace("-", "").upper()
    row = conn.execute("SELECT person_key FROM core.persons WHERE person_key = ?", [text]).fetchall()
    if row:
        return row[0][0]
    row = conn.execute("""
        SELECT l.person_key
        FROM core.person_records r JOIN core.person_links l USING (record_key)
        WHERE l.person_key IS NOT NULL
          AND (r.id_number = $id OR r.id_raw = $raw OR r.record_key = $raw)
        GROUP BY l.person_key ORDER BY count(*) DESC, l.person_key LIMIT 2
    """, {"id": folded, "raw": text}).fetchall()
    if len(row) == 1:
        return row[0][0]
    if len(row) > 1:
        raise LookupError(f"“{text}”对应多个人员（{row[0][0]}、{row[1][0]} 等），请改用人员主键查询")
    unlinked = conn.execute("""
        SELECT r.record_key FROM core.person_records r JOIN core.person_links l USING (record_key)
        WHERE l.person_key IS NULL AND (r.id_number = ? OR r.id_raw = ? OR r.record_key = ?) LIMIT 1
    """, [folded, text, text]).fetchall()
    if unlinked:
        raise LookupError(f"“{text}”的记录 {unlinked[0][0]} 尚未关联到任何人员，已列入数据管理员待处理清单")
    raise LookupError(_not_found(conn, text, folded))


ID_PROBLEM_TEXTS = {
    "长度错误": "应为18位（旧号码15位），这里是 {n} 位",
    "格式错误": "前17位应全是数字、最后一位是数字或X",
    "校验码错误": "第18位校验码与前17位对不上，至少有一位抄错或两位颠倒",
    "出生日期无效": "第7–14位的出生日期不是有效日期（或晚于今天）",
}


def _not_found(conn: duckdb.DuckDBPyConnection, text: str, folded: str) -> str:
    """Why nobody was found: an ID that cannot be anyone's (wrong check digit, length, birth date; turned into a
    number by Excel) is told apart from a valid ID or a key that the store does not hold."""
    if not (sum(c.isdigit() for c in folded) >= 6 and all(c.isdigit() or c in "X.E+" for c in folded)):
        return f"未找到人员：“{text}”（可输入人员主键或公民身份号码）"
    mangled, problem = conn.execute("SELECT id_excel_mangled(?), id_problem(id_normalize(?))",
                                    [text, text]).fetchall()[0]
    if mangled:
        return (f"“{text}”像是被 Excel 改成数字的公民身份号码，后几位已经丢失，不能据此查找。"
                "请从原件抄录完整号码（表格中身份证号一列须设为文本）。")
    if problem:
        why = ID_PROBLEM_TEXTS.get(problem, problem).format(n=len(folded))
        return (f"“{text}”不是有效的公民身份号码：{why}。请核对原件后重新输入；"
                "库中也没有哪条记录写的是这个号码。")
    return f"未找到人员：公民身份号码“{text}”格式、校验码都正确，但库中没有任何记录写的是这个号码。"


def _rows(conn, sql: str, params) -> list[dict]:
    return dicts(conn.execute(sql, params))


def explain(conn: duckdb.DuckDBPyConnection, key_or_id: str, *, as_of: dt.date,
            freshness_days: int = 365) -> str:
    """Plain Chinese text: the person, their source records, the evidence and the reasoning."""
    from pipelines.status import prepare_status

    person_key = resolve_person(conn, key_or_id)
    person = _rows(conn, "SELECT * FROM core.persons WHERE person_key = ?", [person_key])
    person = person[0] if person else {"name": None, "id_number": None, "birth_date": None, "sex": None}
    prepare_status(conn, as_of=as_of, freshness_days=freshness_days, person_key=person_key)
    status = _rows(conn, "SELECT * FROM status_result", [])
    p = _rows(conn, "SELECT * FROM status_p", [])
    dep = _rows(conn, "SELECT * FROM status_departure", [])
    death = _rows(conn, "SELECT * FROM status_death", [])
    evidence = _rows(conn, """
        SELECT e.*, e.evidence_date IS NOT NULL AND e.evidence_date > ? AS after_d, evidence_detail(e) AS detail
        FROM core.evidence e WHERE person_key = ?
        ORDER BY order_date NULLS FIRST, record_key, kind""", [as_of, person_key])
    records = _rows(conn, """
        SELECT r.record_key, r.template, r.row_no, r.record_no, r.event_date, r.house_code, r.record_id,
               b.file_name, l.rule, l.score
        FROM core.person_links l JOIN core.person_records r USING (record_key)
        LEFT JOIN raw.batches b USING (batch_id)
        WHERE l.person_key = ?
        ORDER BY r.event_date NULLS FIRST, b.file_name, r.row_no""", [person_key])
    addresses = _address_lines(conn, [r["record_id"] for r in records])

    lines = [f"人员 {person_key}：{person.get('name') or '（姓名未知）'}，"
             f"公民身份号码 {_mask(conn, person.get('id_number'))}"
             + (f"，出生日期 {person['birth_date']}" if person.get("birth_date") else "")
             + (f"，性别 {person['sex']}" if person.get("sex") else "")]
    places = _places(conn, {r["house_code"] for r in [*records, *evidence, *status] if r.get("house_code")})
    current = status[0]["house_code"] if status else None      # P's house (contract §2)
    if not status:
        lines.append(f"截至 {as_of}：该人员的所有记录都晚于 {as_of}，当日尚无记录，不计入任何统计。")
    else:
        s = status[0]
        lines.append(f"截至 {as_of}（在住证据有效期 {freshness_days} 天）：状态 {s['status']}，"
                     f"人员类别 {s['category'] or '未知'}")
        if s["house_code"]:
            place = places.get(s["house_code"])
            lines.append(f"  当前房屋：{s['house_code']} {place['address'] if place else '（该房屋不在实有房屋表中）'}")
            if place and place["grid"]:
                lines.append(f"  所在网格：{place['grid']}")
        else:
            lines.append("  当前房屋：无（没有带房屋的在住证据）")
        lines.append("  " + _counts_in_verified(s, places))
        lines.append("  " + _counts_in_registered(s, evidence))

    lines.append("")
    lines.append(f"来源记录（共 {len(records)} 条）：")
    for i, r in enumerate(records, 1):
        lines.append(f"  {i}. {TEMPLATE_TITLES.get(r['template'], r['template'])}  "
                     f"{_where(r['file_name'], r['template'], r['row_no'])}  "
                     f"记录编号 {r['record_no'] or '（无）'}  日期 {r['event_date'] or '（无）'}"
                     + (f"  房屋 {_house(r['house_code'], places, current)}" if r["house_code"] else ""))
        if r["record_id"] in addresses:
            lines.append(f"     {addresses[r['record_id']]}")
    lines.extend(_link_basis(conn, records))

    lines.append("")
    lines.append("证据：")
    for kind, title in KIND_TITLES:
        items = [e for e in evidence if e["kind"] == kind]
        if not items:
            continue
        lines.append(f"  {title}：")
        for e in items:
            note = []
            if e["house_code"] and e["template"] in ("residents", "visits", "floating"):
                note.append(f"房屋 {_house(e['house_code'], places, current)}")
            if e["after_d"]:
                note.append(f"晚于 {as_of}，不计入")
            elif kind == "presence" and not e["house_code"]:
                note.append("地址未匹配到房屋，不算在住证据")
            elif kind == "presence" and e["template"] == "floating" and e["deregistered_on"] \
                    and e["deregistered_on"] <= as_of:
                note.append(f"已于 {e['deregistered_on']} 注销，不再算在住证据")
            elif kind == "departure" and e["template"] == "visits" and e["house_code"] != current:
                note.append("不是当前房屋的走访，与本人无关，不计入")
            lines.append(f"    - {_ev(e)}" + (f"（{'；'.join(note)}）" if note else ""))

    lines.append("")
    lines.append("判定：")
    if status:
        lines.append("  " + _reasoning(status[0], p, dep, death, as_of, freshness_days))
    else:
        lines.append(f"  截至 {as_of} 没有任何证据。")
    return "\n".join(lines)


def _places(conn: duckdb.DuckDBPyConnection, houses: set[str]) -> dict[str, dict]:
    """house code → its 标准地址 and the named grid it lies in (community, grid, micro-grid, codes beside names)."""
    if not houses:
        return {}
    rows = _rows(conn, """
        SELECT h.house_code, h.std_address, g.microgrid_code, g.microgrid_name, g.grid_code, g.grid_name,
               g.community_name, g.street_name
        FROM core.houses h LEFT JOIN core.grids g USING (microgrid_code)
        WHERE h.house_code IN (SELECT unnest(?))""", [sorted(houses)])
    out = {}
    for r in rows:
        grid = None
        if r["grid_code"]:
            grid = "".join(f"{n} " for n in (r["street_name"], r["community_name"]) if n)
            grid += (f"{r['grid_name'] or '（未命名网格）'}（网格编码 {r['grid_code']}），"
                     f"微网格 {r['microgrid_name'] or '（未命名）'}（{r['microgrid_code']}）")
        out[r["house_code"]] = {"address": r["std_address"] or "（无标准地址）", "grid": grid,
                                "grid_name": r["grid_name"], "grid_code": r["grid_code"]}
    return out


def _house(code: str, places: dict[str, dict], current: str | None) -> str:
    """A house as a record or evidence names it: the current one is spelled out once, above."""
    if code == current:
        return f"{code}（当前房屋）"
    place = places.get(code)
    return f"{code}（{place['address']}）" if place else f"{code}（不在实有房屋表中）"


def _counts_in_verified(s: dict, places: dict[str, dict]) -> str:
    """实有人口 (contract §2): 在住 persons, counted in the grid of their current house."""
    if s["status"] != "在住":
        return (f"计入实有人口：否——状态为{s['status']}，实有人口只计在住人员"
                + ("（待核实：在册，但有效期内没有在住证据，请网格员走访核实）。" if s["status"] == "待核实" else "。"))
    place = places.get(s["house_code"]) if s["house_code"] else None
    if not place or not place["grid_code"]:
        return ("计入实有人口：否——状态在住，但当前房屋不在实有房屋表或网格表中，无法计入任何网格"
                "（已交数据管理员处理）。")
    return f"计入实有人口：是——状态在住，计入当前房屋所在的 {place['grid_name'] or place['grid_code']}（{place['grid_code']}）。"


def _counts_in_registered(s: dict, evidence: list[dict]) -> str:
    """登记人口 (contract §2): a current house, not 死亡, not deregistered by the police — whatever the visits say
    and however old the evidence: the rule of status_rules.sql's ``registered``, whose stored value
    tests/status/test_explain.py holds these words to."""
    if s["status"] == "死亡":
        return "计入登记人口：否——已死亡。"
    dereg = [e for e in evidence if not e["after_d"] and (
        (e["template"] == "hukou" and e["kind"] == "departure")
        or (e["template"] == "floating" and e["kind"] in ("departure", "death", "deregistration")))]
    if dereg:
        return f"计入登记人口：否——已被公安注销：{_ev(dereg[0])}。"
    if not s["house_code"]:
        return "计入登记人口：否——没有当前房屋（没有任何带房屋的在住证据）。"
    why = "计入登记人口：是——有当前房屋，未死亡，也没有户籍迁出、注销或流动人口注销。"
    if s["status"] == "已离开":
        why += ("登记人口不看网格员走访结果：走访已发现离开，但公安尚未注销，在注销前仍计入登记人口"
                "（已列入“注销核查建议”，请派出所核查）。")
    elif s["status"] == "待核实":
        why += "登记人口不看证据时效：在住证据已过有效期，仍计入登记人口，但不计入实有人口。"
    return why


MATCH_TITLES = {"matched": "已匹配", "multi_match": "多个候选", "no_match": "未匹配"}


def _address_lines(conn: duckdb.DuckDBPyConnection, record_ids: list[int]) -> dict[int, str]:
    """record_id → how its free-text address was matched and why (core.address_matches), naming the steward
    whose decision about the spelling decided, and when."""
    from pipelines.publish.masking import mask_text

    if not record_ids or not table_exists(conn, "core.address_matches"):
        return {}
    aliases = table_exists(conn, "quality.address_aliases")
    rows = _rows(conn, f"""
        SELECT a.record_id, a.address, a.match_status, a.house_code, address_basis(a) AS basis,
               {'q."by", q."at", q.kind, q.spelling, q.target, q.context' if aliases else
                'NULL AS "by", NULL AS "at", NULL AS kind, NULL AS spelling, NULL AS target, NULL AS context'}
        FROM core.address_matches a
        {'LEFT JOIN quality.address_aliases q ON q.alias_id = a.alias_id' if aliases else ''}
        WHERE a.record_id IN (SELECT unnest(?::BIGINT[]))""", [record_ids])
    out = {}
    for r in rows:
        text = f"地址“{r['address']}”：{MATCH_TITLES.get(r['match_status'], r['match_status'])}"
        if r["house_code"]:
            text += f" 房屋 {r['house_code']}"
        text += f"（依据：{r['basis']}"
        if r["by"]:
            what = {"compound": "小区", "road": "道路", "house": "地址"}.get(r["kind"], "")
            where = f"在门牌“{r['context']}”处" if r["context"] else ""
            text += (f"；数据管理员 {r['by']} 于 {r['at']:%Y-%m-%d} 认定{what}写法“{r['spelling']}”{where}"
                     f"即“{r['target']}”")
        # the address as typed may carry a phone or an ID (…3栋电联138…): scrubbed as every explain line is
        out[r["record_id"]] = mask_text(text + "）")
    return out


RULE_TEXTS = {
    "id_exact": "公民身份号码有效且一致",
    "id_typo": "公民身份号码有一位笔误，只与该人员的有效号码差一位，且姓名或拼音相同",
    "name_match": "概率匹配，姓名相同或同音",
    "near_name_match": "概率匹配，姓名相差一个字",
    "score_match": "概率匹配，姓名缺失或不一致，由出生日期、性别和房屋判定",
    "singleton": "以本条记录建立人员（未找到匹配的其他人员）",
    "kept_apart": "以本条记录建立人员：与同户另一人得分很高，但按同户规则（疑似双胞胎或同户家人）不自动合并，待数据管理员核实",
}
GUARD_TEXTS = {
    "likely_twin": "同一房屋、同一出生日期，名字不同：可能是双胞胎，不自动合并",
    "household_member": "同一房屋、出生日期只差一位数字，名字不同：可能是同户家人，不自动合并",
}


def _link_basis(conn: duckdb.DuckDBPyConnection, records: list[dict]) -> list[str]:
    """Why each record belongs to the person: its rule, and for a probabilistic link (or a household member
    it was kept apart from) each comparison's level and weight as stored at link time (core.link_comparisons,
    read through core.link_comparison_levels)."""

    keys = [r["record_key"] for r in records]
    pairs: list[dict] = []
    if keys and table_exists(conn, "core.link_comparison_levels"):
        pairs = _rows(conn, """
            SELECT c.*, k.reason, k.candidate_person_key, p.name AS other_name,
                   o.template AS other_template, o.row_no AS other_row_no, b.file_name AS other_file
            FROM core.link_comparison_levels c
            LEFT JOIN core.link_candidates k
                   ON c.role = 'candidate' AND k.record_key = c.record_key AND k.candidate_record_key = c.other_record_key
            LEFT JOIN core.persons p ON p.person_key = k.candidate_person_key
            LEFT JOIN core.person_records o ON o.record_key = c.other_record_key
            LEFT JOIN raw.batches b ON b.batch_id = o.batch_id
            WHERE c.record_key IN (SELECT unnest(?))
            ORDER BY c.record_key, c.role DESC, c.other_record_key, c.position""", [keys])
    number = {k: i for i, k in enumerate(keys, 1)}
    lines = ["", "归并依据："]
    for i, r in enumerate(records, 1):
        rule = r["rule"] or "未知"
        lines.append(f"  {i}. {RULE_TEXTS.get(rule, rule)}（规则 {rule}"
                     + (f"，匹配概率 {r['score']:.4f}" if r["score"] is not None else "") + "）")
        mine = [p for p in pairs if p["record_key"] == r["record_key"]]
        for (other, role), levels in _grouped(mine):
            first = levels[0]
            total = sum(level["weight"] for level in levels)
            if role == "link":
                whom = (f"与第 {number[other]} 条记录比较" if other in number
                        else f"与记录 {_where(first['other_file'], first['other_template'], first['other_row_no'])} 比较")
            else:
                whom = (f"未与人员 {first['candidate_person_key']}（{first['other_name'] or '姓名未知'}）的记录 "
                        f"{_where(first['other_file'], first['other_template'], first['other_row_no'])} 合并")
                if first["reason"]:
                    whom += f"：{GUARD_TEXTS.get(first['reason'], first['reason'])}"
            lines.append(f"     {whom}（权重合计 {total:+.2f}，匹配概率 {2 ** total / (1 + 2 ** total):.4f}）：")
            for level in levels:
                mu = (f"m={level['m']:g} u={level['u']:g}" if level["u"] is not None
                      else ("" if level["comparison"] == "prior" else "不计分"))
                lines.append(f"       {level['title']}：{level['level']}  {mu}  权重 {level['weight']:+.2f}")
    if pairs:
        lines.append("  （权重 = log2(m/u)：m 为同一人时出现该情况的概率，u 为不同人时的概率；正数支持是同一人，"
                     "合计含先验，即匹配概率的对数几率）")
    return lines


def _grouped(rows: list[dict]):
    """Comparison rows grouped by (other record, role), in the order given."""
    out: dict[tuple, list[dict]] = {}
    for row in rows:
        out.setdefault((row["other_record_key"], row["role"]), []).append(row)
    return out.items()


def _ev(row: dict) -> str:
    """The evidence's own words, plus file and row when the detail cites only the 记录编号."""
    if not row.get("record_no"):
        return row["detail"]
    return f"{row['detail']}（{_where(row['file_name'], row['template'], row['row_no'])}）"


def _reasoning(s: dict, p: list[dict], dep: list[dict], death: list[dict], as_of: dt.date,
               window: int) -> str:
    pres = ""
    if p:
        pr = p[0]
        where = _where(pr["file_name"], pr["template"], pr["row_no"])
        if pr["record_no"]:
            where += f"，记录编号 {pr['record_no']}"
        label = pr["source_label"]
        if pr["via_permit"]:
            label += f"有效期至 {pr['permit_valid_until']}"
        pres = f"最近在住证据：{pr['presence_date']} {label}（{where}）"
    status = s["status"]
    if status == "死亡":
        return f"死亡证据：{_ev(death[0])}，在 {as_of} 当天或之前，死亡优先于其他证据，因此判定为死亡。"
    if status == "已离开":
        d = dep[0]
        if d["template"] == "visits":
            what = f"网格员走访该房屋（{d['house_code']}）结果为“{d['outcome']}”"
        elif d["template"] == "hukou":
            what = f"户籍状态变为“{d['outcome']}”"
        else:
            what = f"流动人口登记注销（{d['outcome']}）"
        when = d["evidence_date"] or "日期不明"
        src = _where(d["file_name"], d["template"], d["row_no"])
        if d["record_no"]:
            src += f"，{d['src_ref']}"
        if p:
            return f"{pres}；此后 {when} {what}（{src}），离开证据晚于在住证据，因此判定为已离开。"
        return f"没有在住证据；{when} {what}（{src}），因此判定为已离开。"
    older_dep = ""
    if dep and p:
        older_dep = f"（离开证据 {_ev(dep[0])} 不晚于最近在住证据，不改变判定）"
    if status == "在住":
        age = (as_of - p[0]["presence_date"]).days
        return (f"{pres}，距 {as_of} {age} 天，在 {window} 天有效期内{older_dep}，"
                f"且无死亡证据，因此判定为在住。")
    if p:
        age = (as_of - p[0]["presence_date"]).days
        return (f"{pres}，距 {as_of} 已 {age} 天，超过 {window} 天有效期{older_dep}，"
                f"也没有更新的离开或死亡证据，因此判定为待核实（在册，未核实）。")
    return "没有任何在住、离开或死亡证据（" + s["basis"] + "），因此判定为待核实（在册，未核实）。"
