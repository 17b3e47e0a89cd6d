"""The `onceonly` command (contract §3). Every command takes --home (default $ONCEONLY_HOME,
else ./.onceonly) and, where an output depends on a date, --as-of (default today)."""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import getpass
import os
import sys
from pathlib import Path

from pipelines.errors import UserFacingError
from pipelines.paths import default_home, store_path


class UserError(UserFacingError):
    """A problem with the command's arguments or files; printed without a traceback, exit code 2."""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD：{text!r}") from None


def _store(args):
    from pipelines.store import Store, env_memory_limit

    path = store_path(args.home)
    if not path.exists():
        raise UserError(f"数据库不存在：{path}。请先运行 onceonly run --inbox 收件箱目录")
    return Store(path, memory_limit=env_memory_limit())


@contextlib.contextmanager
def _reading(args, as_of: dt.date | None = None, freshness_days: int = 365):
    """A connection to the live version, read-only; when the command asks for an as-of date the live version does not
    hold, to a private working copy with status and marts rebuilt for that date (outside a build nothing writes the
    live version: pipelines/versions.py)."""
    from pipelines.store import Store
    from pipelines.versions import working_copy

    store = _store(args)
    with store.connect(read_only=True) as conn:
        current = conn.execute("SELECT max(as_of) FROM core.person_status").fetchall()[0][0]
        if as_of is None or current == as_of:
            yield conn
            return
    with working_copy(args.home) as path, Store(path, memory_limit=store.memory_limit).connect() as conn:
        ensure_as_of(conn, as_of, freshness_days)
        yield conn


def ensure_as_of(conn, as_of: dt.date, freshness_days: int = 365) -> None:
    """Make core.person_status and the marts describe `as_of` (rebuilt when the store holds another date)."""
    from pipelines.marts import build_marts
    from pipelines.status import build_status

    current = conn.execute("SELECT max(as_of) FROM core.person_status").fetchall()[0][0]
    if current != as_of:
        build_status(conn, as_of=as_of, freshness_days=freshness_days)
        build_marts(conn, as_of=as_of)


def _audit(args, *events: dict) -> None:
    """Record command-line actions in the portal's audit trail (``onceonly audit`` lists them with the
    portal's). Each event: the fields of :class:`pipelines.homedb.AuditEvent`; ``user`` defaults to the
    operating-system account, which is named in the detail when a command says it acts for someone else."""
    if not Path(args.home).is_dir():
        return      # no home: nothing there to protect or to record into
    from pipelines.homedb import AuditEvent, record

    account = getpass.getuser()
    rows = []
    for e in events:
        user = e.get("user") or account
        detail = e.get("detail")
        if user != account:
            detail = f"{detail or ''}（系统账号 {account}）".lstrip()
        rows.append(AuditEvent(**{**e, "user": user, "detail": detail, "source": "cli"}))
    record(args.home, *rows)


# --- commands -----------------------------------------------------------------------------

def cmd_run(args) -> int:
    if args.by_district:
        return _run_by_district(args)
    from pipelines.progress import STAGE_TIMES, TerminalProgress
    from pipelines.runner import run_pipeline
    from pipelines.store import env_memory_limit

    # With --verbose Dagster's lines scroll by: plain stage lines among them, not a live display under them.
    with _quiet(args.verbose), TerminalProgress(args.home / STAGE_TIMES, interactive=False if args.verbose else None,
                                                title=f"onceonly run · 统计截止日期 {args.as_of}") as progress:
        summary = run_pipeline(home=args.home, inbox=args.inbox, as_of=args.as_of,
                               freshness_days=args.freshness_days, memory_limit=env_memory_limit(),
                               progress=progress, verbose=args.verbose, allow_future=args.allow_future)
    print(summary.render())
    return 0 if summary.success else 1


def _quiet(verbose: bool):
    """Libraries' own warnings (English, for developers) stay off a user's terminal unless --verbose."""
    import contextlib
    import warnings

    if verbose:
        return contextlib.nullcontext()
    stack = contextlib.ExitStack()
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    return stack


def _run_by_district(args) -> int:
    from pipelines.districts import discover, district_home, progress_path, run_districts
    from pipelines.progress import STAGE_TIMES, DistrictsDisplay, last_seconds

    if not args.inbox.is_dir():
        raise UserError(f"收件箱目录不存在：{args.inbox}")
    if args.parallel < 1:
        raise UserError("--parallel 须为正整数")
    codes, skipped = discover(args.inbox)
    for name, why in skipped:
        print(f"  跳过 {name}：{why}")
    if not codes:
        raise UserError(f"{args.inbox} 中没有区县文件夹（收件箱/<6位区县代码>/<模板>/<文件>）")
    print(f"按区县运行 {len(codes)} 个区县，同时运行 {min(args.parallel, len(codes))} 个（统计截止日期 {args.as_of}）",
          flush=True)
    with _quiet(args.verbose), DistrictsDisplay(codes, lambda code: progress_path(args.home, code),
                                                estimates=last_seconds({c: district_home(args.home, c) / STAGE_TIMES
                                                                        for c in codes}),
                                                parallel=args.parallel) as display:
        results = run_districts(home=args.home, inbox=args.inbox, as_of=args.as_of, freshness_days=args.freshness_days,
                                parallel=args.parallel, codes=codes, rerun_all=args.rerun_all,
                                allow_future=args.allow_future,
                                on_done=lambda r: display.district_done(r.code, r.render()))
    failed = [r.code for r in results if not r.success]
    ok = [r for r in results if r.success]
    unchanged = sum(r.skipped for r in ok)
    print(f"合计：成功 {len(ok)} 个区县" + (f"（其中 {unchanged} 个未变化、未重新运行）" if unchanged else "")
          + f"，人员 {sum(r.persons for r in ok)}，在住 {sum(r.residents for r in ok)}（各区县分别计数）")
    print(f"各区县数据库：{args.home / 'districts'}/<区县代码>/store.duckdb")
    if failed:
        print(f"失败的区县：{'、'.join(failed)}；全市合并未运行（它需要每个区县的结果）", file=sys.stderr)
        return 1
    from pipelines.city import city_pass
    from pipelines.store import env_memory_limit

    # One person, one status, one house city-wide: the districts' stores merged (pipelines/city.py).
    print(city_pass(home=args.home, as_of=args.as_of, freshness_days=args.freshness_days,
                    memory_limit=env_memory_limit(), codes=codes).render())
    return 0


def cmd_extract(args) -> int:
    from pipelines.publish import write_extract

    # The contract's form (no --dept) is the store operator's: every column, identifiers and phones masked by
    # default; a department's --dept narrows columns, masking and scope to its grant. Both are audited.
    action = "extract" if args.dept else "operator_extract"
    args.asked = {"what": f"extract:{args.name}.{args.format}", "dept": args.dept, "user": args.user,
                  "scope": args.scope or "（未指定，按授权全部范围）"}
    with _reading(args, args.as_of) as conn:
        result = write_extract(conn, args.name, fmt=args.format, out=args.out, dept=args.dept,
                               scope=args.scope, as_of=args.as_of, user=args.user, home=args.home)
    _audit(args, {"action": action, "what": args.asked["what"], "dept": args.dept, "user": args.user,
                  "scope": result.scope,
                  "detail": (f"截止 {result.as_of} {result.rows}行 sha256={result.sha256[:16]} → {result.path}"
                             + ("" if args.dept else "；未指定部门：本库操作员导出（全部列，身份证号、电话按默认方式脱敏）"))})
    if not args.dept:
        print("未指定部门（--dept）：按本库操作员导出，全部列，身份证号、电话按默认方式脱敏；已记入审计日志。"
              "向部门提供数据时请用 --dept，按该部门的授权导出。", file=sys.stderr)
    print(f"已导出 {result.rows} 行 → {args.out}")
    return 0


def cmd_report(args) -> int:
    from pipelines.reports import TITLES, render_report

    # render_report refuses --from for a report whose period cannot be chosen, and a start after the as-of date
    args.asked = {"what": f"report:{args.name}", "dept": args.dept, "user": args.user,
                  "scope": args.scope or "（未指定，按授权全部范围）"}
    with _reading(args, args.as_of, args.freshness_days) as conn:
        paths = render_report(conn, args.name, out_dir=args.out, as_of=args.as_of, home=args.home, dept=args.dept,
                              scope=args.scope, user=args.user, period_start=args.period_from)
    period = f"，统计期间 {args.period_from} 至 {args.as_of}" if args.period_from else ""
    print(f"已生成报表“{TITLES[args.name]}”（统计截止日期 {args.as_of}{period}）：")
    for path in paths:
        print(f"  {path}")
    return 0


def cmd_tasks(args) -> int:
    if args.action == "show":
        from pipelines.marts.tasks import task_history

        if not args.task:
            raise UserError("用法：onceonly tasks show 任务编号")
        store = _store(args)
        with store.connect(read_only=True) as conn:
            try:
                print(task_history(conn, args.task))
            except LookupError as exc:
                raise UserError(str(exc)) from None
        return 0
    from pipelines.publish.task_workbook import write_task_workbooks

    if not args.out:
        raise UserError("请用 --out 指定保存任务单的文件夹，例如 --out 任务单/")
    with _reading(args, args.as_of, args.freshness_days) as conn:
        books = write_task_workbooks(conn, out_dir=args.out, as_of=args.as_of, home=args.home, dept=args.dept,
                                     scope=args.scope, user=args.user)
    for b in books:
        print(f"  {b.grid_name}（{b.grid_code}）：{b.tasks} 项" + (f"，逾期 {b.overdue} 项" if b.overdue else "")
              + f"，{len(b.sheets)} 名网格员 → {b.path}")
    print(f"已生成走访核查任务单 {len(books)} 份（统计截止日期 {args.as_of}）" if books
          else f"范围内没有待办的走访核查任务（统计截止日期 {args.as_of}）。")
    return 0


def cmd_explain(args) -> int:
    from pipelines.status import explain
    from pipelines.status.explain import resolve_person

    args.asked = {"what": "explain"}
    with _reading(args, args.as_of, args.freshness_days) as conn:
        try:
            person = resolve_person(conn, args.key)
        except LookupError as exc:
            # the audit names what was asked, the ID masked
            masked = conn.execute("SELECT id_mask(?)", [args.key.strip()]).fetchall()[0][0]
            args.asked = {"what": f"explain:{masked}"}
            raise UserError(str(exc).replace(args.key.strip(), masked)) from None
        print(explain(conn, person, as_of=args.as_of, freshness_days=args.freshness_days))
    _audit(args, {"action": "explain", "what": f"person:{person}", "detail": f"截止 {args.as_of}"})
    return 0


def cmd_demo(args) -> int:
    from pipelines import demo

    if args.check:
        return _demo_check(args)
    if args.followup:
        return _demo_followup(args)
    # Unset --street-max keeps the generator's own STREET_MAX_PERSONS (importing it here would slow every command).
    extra = {} if args.street_max is None else {"street_max": args.street_max}
    try:
        summary = demo.generate(args.out, args.truth, persons=args.persons, seed=args.seed, as_of=args.as_of,
                                street_index=args.street_index, by_district=args.by_district, **extra)
    except (FileExistsError, ValueError) as exc:
        raise UserError(str(exc)) from None
    if args.movers:
        if not args.by_district:
            raise UserError("--movers 需要 --by-district：迁居者从一个区县搬到另一个区县")
        from pipelines.demo.movers import add_movers

        summary["movers"] = add_movers(args.out, per_district=args.movers, as_of=args.as_of, seed=args.seed)
    print(f"演示数据已生成：{args.out}（真值：{args.truth}）")
    for key, value in summary.items():
        print(f"  {key}: {value}")
    if summary.get("followup"):
        print(f"第二个月（截止 {summary['followup']}）的走访记录已备好：运行后用 onceonly demo --followup 放入收件箱")
    return 0


def _demo_followup(args) -> int:
    from pipelines.demo import followup

    try:
        meta = followup.deliver(args.out, args.truth)
    except (FileNotFoundError, FileExistsError) as exc:
        raise UserError(str(exc)) from None
    results = "，".join(f"{k} {v}" for k, v in meta["results"].items())
    print(f"第二个月的走访记录已放入收件箱：{'、'.join(meta['files'])}")
    print(f"  {meta['previous_as_of']} 之后到 {meta['as_of']}：按走访核查任务上门 {meta['task_visits']} 户次（{results}），"
          f"例行走访 {meta['routine_visits']} 户次")
    print(f"下一步：onceonly run --inbox {args.out} --as-of {meta['as_of']}，"
          f"再 onceonly demo --check --as-of {meta['as_of']}")
    return 0


def _demo_check(args) -> int:
    from pipelines import demo
    from pipelines.address.corpus import corpus_scores
    from pipelines.demo import followup

    truth = followup.truth_for(args.truth, args.as_of)
    with _reading(args, args.as_of) as conn:
        frames = demo.check_frames(conn)
        gaps = followup.gap_report(conn, args.truth, args.as_of)
    result = demo.check(args.out, truth, corpus=corpus_scores(), **frames)
    print(demo.format_check(result))
    print()
    print(gaps)
    return 0 if result.get("passed") else 1


def cmd_quality(args) -> int:
    from pipelines import quality
    from pipelines.publish.masking import DEFAULT as DEFAULT_MASKING
    from pipelines.quality import pending

    args.asked = {"what": f"quality {args.action}" + (f" {args.file}" if args.file else ""),
                  "scope": args.community, "user": args.by}
    store = _store(args)
    if args.action == "list":
        with store.connect(read_only=True) as conn:
            # decisions waiting for the next build shown as decided (pipelines/quality/pending.py)
            issues = quality.list_issues(conn, community=args.community, status=args.status, rule=args.rule,
                                         issues=pending.overlay(conn, args.home)[0])
        # the command line is the operator's: values masked by default (pipelines/publish/masking.py)
        issues = [quality.masked_issue(i, DEFAULT_MASKING) for i in issues]
        _audit(args, {"action": "view", "what": "quality list", "scope": args.community,
                      "detail": f"status={args.status} rule={args.rule or ''} {len(issues)}条"})
        from pipelines.quality.rules import rule_title

        for i in issues[: args.limit]:
            print(f"[{rule_title(i['rule'])}] {i['community_name'] or '未知社区'} {i['message']}"
                  + (f"（建议：{i['suggested_fix']}）" if i.get("suggested_fix") and i["status"] == "open" else "")
                  + f"  #{i['issue_id']}")
            if i["status"] != "open":
                print("    " + quality.decision_line(i))
        print(f"共 {len(issues)} 条" + (f"（只显示前 {args.limit} 条）" if len(issues) > args.limit else ""))
    elif args.action == "progress":
        _print_progress(args, store)
    elif args.action == "export":
        if not args.out:
            raise UserError("请用 --out 指定要写出的 Excel 文件，例如 --out fixes.xlsx")
        with store.connect(read_only=True) as conn:
            n = quality.export_workbook(conn, args.out, community=args.community)
        _audit(args, {"action": "export", "what": "fixes-workbook", "scope": args.community,
                      "detail": f"{n}条问题 → {args.out}"})
        print(f"已导出 {n} 条待处理问题 → {args.out}。在“修正值/处理方式/原因”列填写后，用 onceonly quality apply 导入。")
    elif args.action == "apply":
        if not args.file or not args.by:
            raise UserError("用法：onceonly quality apply fixes.xlsx --by 姓名")
        if not Path(args.file).is_file():
            raise UserError(f"找不到文件：{args.file}")
        with store.connect(read_only=True) as conn:
            result = quality.apply_workbook(conn, Path(args.file), by=args.by, home=args.home)
        source = Path(args.file).name
        _audit(args, *[{"action": "fix", "what": issue, "user": args.by, "detail": f"{source} 工作表“{sheet}”第{row}行"}
                       for sheet, row, issue in result.accepted],
               *[{"action": "fix", "result": "refused", "what": issue, "user": args.by,
                  "detail": f"{source} 工作表“{sheet}”第{row}行：{why}"} for sheet, row, issue, why in result.refused],
               {"action": "apply", "what": f"fixes-workbook:{source}", "user": args.by,
                "result": "partial" if result.refused else "ok",
                "detail": f"接受{len(result.accepted)}条 拒绝{len(result.refused)}条 未变{result.unchanged}条"})
        print(f"接受 {len(result.accepted)} 条，拒绝 {len(result.refused)} 条，已生效无需重复 {result.unchanged} 条。")
        for sheet, row, _issue, why in result.refused:
            print(f"  拒绝：工作表“{sheet}”第{row}行 — {why}")
        for sheet, row, issue in result.already[: args.limit]:
            print(f"  已生效：工作表“{sheet}”第{row}行 #{issue}（此前已导入，未重复记录）")
        if result.unchanged > args.limit:
            print(f"  ……已生效的另有 {result.unchanged - args.limit} 条（--limit 可显示更多）")
        if result.accepted:
            print("修正将在下次 onceonly run 时生效。")
    elif args.action == "revert":
        if not args.file or not args.by or not args.reason:
            raise UserError("用法：onceonly quality revert 问题编号 --by 姓名 --reason 原因")
        with store.connect(read_only=True) as conn:
            done = quality.revert_correction(conn, args.file, by=args.by, reason=args.reason, home=args.home)
        _audit(args, {"action": "revert", "what": args.file, "user": args.by, "result": "ok" if done else "refused",
                      "detail": args.reason if done else "没有可撤销的修正"})
        print("已撤销，下次运行时恢复原值。" if done else f"问题 {args.file} 没有可撤销的修正。")
    return 0


def cmd_runs(args) -> int:
    from pipelines import versions

    print(versions.describe(args.home, limit=args.limit))
    return 0


def cmd_rollback(args) -> int:
    from pipelines import versions

    now, replaced = versions.rollback(args.home, to=args.to)
    print(f"已回退：当前数据版本 {now.id}（{now.built_at or '时间不详'} 构建，统计截止日期 {now.as_of or '—'}），"
          f"门户与各命令即刻使用它；版本 {replaced.id} 标记为“已回退”。")
    print("注意：收件箱中的文件仍在，下次 onceonly run 会以此版本为基础再次加载其后新增的文件；"
          "如需撤下某个文件，请先把它移出收件箱。数据专员在其后做的修正会在下次运行时重新应用。")
    return 0


def cmd_address(args) -> int:
    if args.action == "parse":
        return _address_parse(args)
    from pipelines.address import aliases

    from pipelines.publish.masking import DEFAULT as DEFAULT_MASKING

    args.asked = {"what": f"address {args.action}", "scope": args.community, "user": args.by}
    store = _store(args)
    if args.action == "unknown":
        with store.connect(read_only=True) as conn:
            groups = aliases.unknown_groups(conn, community=args.community, kind=args.kind)
        # the command line is the operator's: addresses scrubbed of IDs and phones by default
        groups = aliases.masked_groups(groups, DEFAULT_MASKING)
        _audit(args, {"action": "view", "what": "address unknown", "scope": args.community,
                      "detail": f"{len(groups)} 组" + (f" 类型 {args.kind}" if args.kind else "")})
        for g in groups[: args.limit]:
            print(f"[{g['title']}] {g['key']}  {g['rows']} 行（{g['templates']}；{g['spellings']} 种写法，"
                  f"例：“{g['example']}”）— {g['basis']}")
        total = sum(g["rows"] for g in groups)
        print(f"共 {len(groups)} 组、{total} 行" + (f"（只显示前 {args.limit} 组）" if len(groups) > args.limit else "")
              + "。一组只需认定一次：onceonly address alias --compound 写法 --is 小区名 --by 姓名")
        return 0
    if args.action == "aliases":
        with store.connect(read_only=True) as conn:
            rows = aliases.list_aliases(conn, active_only=not args.all)
        for r in rows:
            where = f"（仅限门牌“{r['context']}”）" if r["context"] else ""
            target = r["target"] if r["action"] == "set" else "（撤销）"
            print(f"{aliases.KINDS[r['kind']]}写法“{r['spelling']}”{where} → {target}  "
                  f"{r['by']} {r['at']:%Y-%m-%d %H:%M} {r['reason'] or ''}")
        print(f"共 {len(rows)} 条")
        return 0
    # alias: exactly one of --compound / --road / --address
    given = [(k, v) for k, v in (("compound", args.compound), ("road", args.road), ("house", args.address)) if v]
    if len(given) != 1:
        raise UserError("请用 --compound、--road 或 --address 指定一个要认定的写法")
    kind, spelling = given[0]
    if not args.by:
        raise UserError("请用 --by 写明认定人")
    # checked on the live version, kept in the home's database for the next build (pipelines/quality/pending.py)
    with store.connect(read_only=True) as conn:
        try:
            if args.revoke:
                decision = aliases.revoke_alias(conn, kind, spelling, by=args.by, reason=args.reason or "",
                                                context=args.at, home=args.home)
            else:
                target = args.house if kind == "house" else args.target
                if not target:
                    raise UserError("请用 --is 写明实有房屋中的小区或道路（认定房屋时用 --house 房屋编码）")
                decision = aliases.record_alias(conn, kind, spelling, target, by=args.by, reason=args.reason,
                                                context=args.at, home=args.home)
        except aliases.AliasRefused as exc:
            raise UserError(str(exc)) from None
    _audit(args, {"action": "alias", "what": spelling, "user": args.by,
                  "detail": f"撤销 {decision.describe()}" if args.revoke else decision.describe()})
    print(f"已记录：{decision.describe()}（{decision.by}）。下次 onceonly run 时对所有同样写法的地址生效。")
    return 0


def _address_parse(args) -> int:
    """Contract §3: CSV of the parts of each input line (FILE or standard input, UTF-8), no store needed;
    the names of a store's grids are used when one exists at --home."""
    from pipelines.address.parse import parse_csv
    from pipelines.store import Store

    if args.file and args.file != "-":
        path = Path(args.file)
        if not path.is_file():
            raise UserError(f"找不到文件：{args.file}")
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    else:
        lines = sys.stdin.read().splitlines()
    path = store_path(args.home)
    if path.exists():
        try:
            with Store(path).connect(read_only=True) as conn:
                sys.stdout.write(parse_csv(lines, conn))
                return 0
        except Exception as exc:   # a store being written, or encrypted without a key: read without its names
            print(f"（未能读取数据库中的网格名称，仅按通用规则识别：{str(exc).splitlines()[0]}）", file=sys.stderr)
    sys.stdout.write(parse_csv(lines))
    return 0


def _print_progress(args, store) -> None:
    """``onceonly quality progress``: a community's open / fixed / waived by kind, oldest open issue, trend."""
    from pipelines import quality
    from pipelines.publish.masking import mask_text
    from pipelines.quality.rules import rule_title

    with store.connect(read_only=True) as conn:
        p = quality.progress(conn, community=args.community)
    _audit(args, {"action": "view", "what": "quality progress", "scope": args.community})
    print(f"{args.community or '全部社区'} 问题处理进度")
    print("类别\t待处理\t已修正\t已忽略")
    for rule, n_open, n_fixed, n_waived in p["kinds"]:
        print(f"{rule_title(rule)}\t{n_open}\t{n_fixed}\t{n_waived}")
    totals = [sum(k[i] for k in p["kinds"]) for i in (1, 2, 3)]
    print(f"合计\t{totals[0]}\t{totals[1]}\t{totals[2]}")
    if p["oldest"]:
        issue_id, rule, first_seen, message, *_ = p["oldest"]
        print(f"最早的待处理问题：{rule_title(rule)} #{issue_id}，{first_seen:%Y-%m-%d} 起待处理 — {mask_text(message)}")
    if p["trend"]:
        print("历次重新计算（待处理/已修正/已忽略）：" + "；".join(
            f"第{run}次 {at:%m-%d %H:%M} {o}/{f}/{w}" for run, at, o, f, w in p["trend"]))


def cmd_serve(args) -> int:
    from pipelines.web import serve

    serve(args.home, host=args.host, port=args.port, demo_users=not args.no_demo_users)
    return 0


def cmd_users(args) -> int:
    import getpass

    from pipelines import web

    def password() -> str:
        first = os.environ.get("ONCEONLY_NEW_PASSWORD") or getpass.getpass("新密码：")
        if not os.environ.get("ONCEONLY_NEW_PASSWORD") and getpass.getpass("再输入一次：") != first:
            raise UserError("两次输入的密码不一致")
        return first

    if args.action != "list":
        args.asked = {"what": f"users {args.action} {args.username}", "dept": args.dept, "scope": args.scope}
    if args.action == "add":
        if not args.dept:
            raise UserError("请用 --dept 指定部门，例如 --dept 社区")
        user = web.add_user(args.home, args.username, password(), args.dept, args.scope)
        print(f"已添加用户 {user.username}（{user.dept}）")
    elif args.action == "disable":
        web.disable_user(args.home, args.username)
        print(f"已停用用户 {args.username}")
    elif args.action == "reset":
        web.reset_password(args.home, args.username, password())
        print(f"已重置用户 {args.username} 的密码")
    else:
        for u in web.list_users(args.home):
            print(u)
    return 0


def cmd_audit(args) -> int:
    from pipelines.web import audit_log, format_audit

    rows = [r for r in audit_log(args.home, args.since)
            if (not args.user or r["user"] == args.user) and (not args.refused or r["result"] == "refused")]
    print(format_audit(rows))
    return 0


# --- parser -------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="onceonly", description="一次采集、多方使用：人房数据仓库与报表")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p, as_of=True):
        p.add_argument("--home", type=Path, default=None, help="数据目录（默认 $ONCEONLY_HOME，否则 ./.onceonly）")
        if as_of:
            p.add_argument("--as-of", type=_date, default=dt.date.today(), help="统计截止日期 YYYY-MM-DD（默认今天）")
            p.add_argument("--freshness-days", type=int, default=365, help="在住证据有效期（天），默认 365")
            p.add_argument("--allow-future", action="store_true",
                           help="允许统计截止日期晚于今天（试算用；默认拒绝，见 pipelines/asof.py）")

    p = sub.add_parser("run", help="加载收件箱中的新文件，重建、校验并生成报表")
    common(p)
    p.add_argument("--inbox", type=Path, required=True, help="收件箱目录：INBOX/<模板>/<文件>.csv|.xlsx")
    p.add_argument("--by-district", action="store_true",
                   help="按区县分区运行：收件箱为 INBOX/<区县代码>/<模板>/<文件>，每个区县单独一个进程、"
                        "写入 HOME/districts/<区县代码>/store.duckdb")
    p.add_argument("--parallel", type=int, default=2, metavar="N", help="--by-district 时同时运行的区县数（默认 2）")
    p.add_argument("--verbose", action="store_true",
                   help="在终端上也显示 Dagster 自己的日志（默认只记入 Dagster 事件日志，可在界面中查看）")
    p.add_argument("--all", dest="rerun_all", action="store_true",
                   help="--by-district 时重跑全部区县（默认只运行收件箱、截止日期、程序或修正有变化的区县）")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("runs", help="数据版本：当前版本、各版本的构建时间、截止日期和来源批次")
    common(p, as_of=False)
    p.add_argument("--limit", type=int, default=10, help="最多列出的版本数（默认 10）")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("rollback", help="回退到上一个已发布的数据版本（或 --to 指定的版本）")
    common(p, as_of=False)
    p.add_argument("--to", default=None, metavar="版本号", help="要回退到的版本号，如 000007（默认：上一个已发布版本）")
    p.set_defaults(func=cmd_rollback)

    p = sub.add_parser("extract", help="导出标准数据集")
    common(p)
    p.add_argument("name", help="数据集名称，如 grid-population、person-sources、assistance-check")
    p.add_argument("--format", choices=("csv", "csv-excel", "xlsx", "parquet"), default="csv",
                   help="csv：契约规定的纯 CSV（供程序读取）；csv-excel：供 Excel/WPS 双击打开的 CSV，"
                        "身份证号、电话、编码不会变成数字；xlsx：Excel 工作簿（含数据字典，可直接打印）")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--dept", default=None,
                   help="部门（按部门授权限定字段、脱敏与范围）；不指定时按本库操作员导出：全部列，身份证号、电话脱敏")
    p.add_argument("--scope", default=None, help="辖区代码（街道、社区或网格），默认部门授权的全部范围")
    p.add_argument("--user", default=os.environ.get("USER", "cli"), help="记入审计日志的操作人")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("report", help="生成一张报表（HTML、XLSX 及所附人员名单），如 population-changes 人口变动月报")
    common(p)
    p.add_argument("name", help="报表名称，如 population-monthly、population-changes、grid-standards")
    p.add_argument("--from", dest="period_from", type=_date, default=None, metavar="YYYY-MM-DD",
                   help="统计期间的起始日期（人口变动月报；默认统计截止日期所在月的1日，期初人数为其前一日的实有人口）")
    p.add_argument("--out", type=Path, required=True, help="输出目录")
    p.add_argument("--dept", default=None, help="部门（按部门授权限定报表、脱敏与范围）")
    p.add_argument("--scope", default=None, help="辖区代码或名称（街道、社区），默认部门授权的全部范围")
    p.add_argument("--user", default=os.environ.get("USER", "cli"), help="记入审计日志的操作人")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("tasks", help="核查任务：按网格打印走访核查任务单（workbook），或查看一项任务的经过（show）",
                       description="workbook：范围内每个网格一份 Excel 任务单，每名网格员一个工作表，按小区、楼栋、单元、"
                                   "房号排列，A4 横向打印、每页重复表头；按部门授权脱敏并记入审计。"
                                   "show：一项任务何时开始、由哪条记录办结、用时多少天。")
    common(p)
    p.add_argument("action", choices=("workbook", "show"))
    p.add_argument("task", nargs="?", help="show：任务编号，如 HS-1A2B3C4D5E6F7A8B")
    p.add_argument("--scope", default=None, help="网格编码、社区或街道（代码或名称）；默认部门授权的全部范围")
    p.add_argument("--dept", default=None, help="部门（按部门授权限定字段、脱敏与范围）")
    p.add_argument("--out", type=Path, help="workbook：保存任务单的文件夹")
    p.add_argument("--user", default=os.environ.get("USER", "cli"), help="记入审计日志的操作人")
    p.set_defaults(func=cmd_tasks)

    p = sub.add_parser("explain", help="说明某人的全部记录、证据和状态判定理由")
    common(p)
    p.add_argument("key", help="公民身份号码或人员主键")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("quality", help="问题清单：查看、处理进度、导出修正表、导入修正、撤销")
    common(p, as_of=False)
    p.add_argument("action", choices=("list", "progress", "export", "apply", "revert"))
    p.add_argument("file", nargs="?", help="apply：修正表 xlsx；revert：问题编号")
    p.add_argument("--community", help="社区代码或名称（只看本社区）")
    p.add_argument("--rule", help="只看某条规则")
    p.add_argument("--status", default="open", choices=("open", "fixed", "waived"))
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--out", type=Path)
    p.add_argument("--by", help="处理人姓名（记入修正记录）")
    p.add_argument("--reason", help="撤销原因")
    p.set_defaults(func=cmd_quality)

    p = sub.add_parser("address", help="地址：解析、未匹配分组、数据管理员认定写法",
                       description="parse：逐行解析地址（文件或标准输入），输出 CSV（地址,道路,门牌号,小区,楼栋,单元,楼层,室）；"
                                   "unknown：未匹配到房屋的地址，按未知内容分组计数；"
                                   "alias：认定一种写法（小区、道路或整条地址）对应实有房屋中的哪一个，每次运行都生效；"
                                   "aliases：查看已作的认定。")
    common(p, as_of=False)
    p.add_argument("action", choices=("parse", "unknown", "alias", "aliases"))
    p.add_argument("file", nargs="?", help="parse：地址文件（每行一个，UTF-8；省略或 - 为标准输入）")
    p.add_argument("--community", help="unknown：只看某社区（代码或名称）")
    p.add_argument("--kind", help="unknown：只看一类（compound/road/building/house/ambiguous/outside/not_address/unreadable）")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--compound", help="alias：小区写法，如 金域蓝湾四期")
    p.add_argument("--road", help="alias：道路写法，如 玉林北街")
    p.add_argument("--address", help="alias：整条地址写法")
    p.add_argument("--is", dest="target", help="alias：实有房屋中的小区或道路名")
    p.add_argument("--house", help="alias：认定的房屋编码（与 --address 一起用）")
    p.add_argument("--at", help="alias：小区写法只在此道路门牌处成立，如 嘉陵江东街180号")
    p.add_argument("--by", help="alias：认定人姓名（记入认定记录）")
    p.add_argument("--reason", help="alias：认定依据或撤销原因")
    p.add_argument("--revoke", action="store_true", help="alias：撤销该写法的认定（须写 --reason）")
    p.add_argument("--all", action="store_true", help="aliases：包括已被取代或撤销的认定")
    p.set_defaults(func=cmd_address)

    p = sub.add_parser("serve", help="启动网页门户（报表下载、问题清单、数据集）")
    common(p, as_of=False)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--no-demo-users", action="store_true", help="不创建演示账号")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("users", help="门户账号：add / disable / reset / list")
    common(p, as_of=False)
    p.add_argument("action", choices=("add", "disable", "reset", "list"))
    p.add_argument("username", nargs="?", default="")
    p.add_argument("--dept", help="部门：街道办、社区、网格员、公安、民政、教育、卫健、残联、应急")
    p.add_argument("--scope", help="辖区：街道、社区或网格的代码或名称（网格员须为网格编码）")
    p.set_defaults(func=cmd_users)

    p = sub.add_parser("audit", help="审计日志：登录、查看、下载、修正、导出、拒绝（门户与命令行）")
    common(p, as_of=False)
    p.add_argument("--since", type=_date, default=dt.date.today() - dt.timedelta(days=30))
    p.add_argument("--user", help="只看某个用户")
    p.add_argument("--refused", action="store_true", help="只看被拒绝的请求")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("demo", help="生成演示街道（或整座城市）数据（含真值），或用 --check 核对准确率",
                       description="生成演示数据：人数不超过 --street-max 时为一条街道（玉林街道），"
                                   "超过时为一座城市——多条街道逐条生成、写入同一收件箱，真值逐条追加。")
    common(p)
    p.add_argument("--out", type=Path, default=Path(".onceonly-demo/inbox"), help="收件箱目录（生成前清空，--street-index 除外）")
    p.add_argument("--truth", type=Path, default=Path(".onceonly-demo/truth"), help="真值目录（生成前清空，--street-index 除外）")
    p.add_argument("--persons", type=int, default=20000, help="人数（默认 20000）；城市规模如 5000000、21000000")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--street-max", type=int, default=None,
                   help="每条街道最多人数（默认 1000000）；超过则分成多条街道，内存只需容纳一条")
    p.add_argument("--street-index", type=int, default=None, metavar="S",
                   help="只生成序号为 S 的一条街道（--persons 人），追加到已有收件箱和真值，不清空；"
                        "身份证号避开真值中已有的人")
    p.add_argument("--by-district", action="store_true",
                   help="按区县分目录：每条街道的文件写入 收件箱/<区县代码>/<模板>/（供 onceonly run --by-district）；真值仍为全市一份")
    p.add_argument("--movers", type=int, default=0, metavar="N",
                   help="与 --by-district 同用：每个区县 N 人迁居到下一个区县（新区县的采集记录、原住址的搬离走访、"
                        "部分人迁居后死亡由新区县登记；真值不含迁居）")
    p.add_argument("--check", action="store_true",
                   help="不生成数据，核对已运行的数据库与真值，并列出各网格登记人口与实有人口差额的上期与本期")
    p.add_argument("--followup", action="store_true",
                   help="不生成数据，把第二个月的走访记录（网格员按走访核查任务上门的结果）放入收件箱；"
                        "随后按它给出的截止日期运行 onceonly run")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "home", None) is None:
        args.home = default_home()
    args.home = Path(args.home).resolve()
    try:
        if getattr(args, "as_of", None) is not None:
            from pipelines.asof import check_as_of

            check_as_of(args.as_of, allow_future=args.allow_future)
        return args.func(args)
    except UserFacingError as exc:
        asked = getattr(args, "asked", None)
        if asked is not None:     # a command that reads or changes personal data: its refusals are audited
            _audit(args, {"action": "refused", "result": "refused", "detail": str(exc), **asked})
        print(f"错误：{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
