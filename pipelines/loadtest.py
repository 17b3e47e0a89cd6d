"""`make loadtest`: the portal under a crowd, with a rebuild in the middle (docs/benchmarks.md, "Portal under load").

N clients (default 100) log in over the demo accounts (street office, its data steward, a community, 民政, 公安,
教育) and each asks, one request after another with no pause, for what its account offers: pages (home, reports
and a report's preview, extracts, the steward queue, scorecard, run status) and, for ``--downloads`` of the
requests (default 10 %), a file (a report's XLSX, a person list, an extract as CSV/XLSX/Parquet, for any area of
the account's jurisdiction). When ``--rebuild-at`` of the request budget is spent, a new file lands in the inbox
and ``onceonly run`` rebuilds; the test goes on until the budget or the time is spent and the rebuild has ended.

Bounded: at most ``--requests`` requests and ``--seconds`` seconds (then whatever is in flight is cancelled and
counted); with a rebuild, it stops ``--after`` seconds after the rebuild has ended (the new version serving).
Loopback only: the portal is started on 127.0.0.1 and nothing else is contacted. Needs the dev extra (httpx).

Prints requests/s, errors by kind (HTTP status, timeout, connection), p50/p95/p99 of pages and downloads (also while
the rebuild ran), the rebuild's time and outcome and the machine's load; exits 1 when the floor is missed (any
error, page p95 > 2 s, download p95 > 10 s, the rebuild not published).

    python -m pipelines.loadtest                       # the demo street (make demo), 100 clients
    python -m pipelines.loadtest --clients 20 --requests 1000 --no-rebuild
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from pipelines.paths import REPO_ROOT, store_path

DEMO = REPO_ROOT / ".onceonly-demo"
WORK = REPO_ROOT / ".loadtest"
AS_OF = dt.date(2026, 10, 31)
ACCOUNTS = ("jiedao", "steward", "shequ", "minzheng", "gongan", "jiaoyu")
PAGE_P95_S, DOWNLOAD_P95_S = 2.0, 10.0


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def prepare(home: Path, inbox: Path) -> list[tuple[str, str, str, str]]:
    """A home built from the demo street's inbox (copied: the rebuild adds a file to it) and its demo accounts."""
    from pipelines.runner import run_pipeline
    from pipelines.web.users import ensure_demo_users

    if not inbox.exists():
        source = DEMO / "inbox"
        if not source.exists():
            from pipelines import demo

            demo.generate(source, DEMO / "truth", persons=20000, seed=7, as_of=AS_OF)
        shutil.copytree(source, inbox)
    if not store_path(home).exists():
        print(f"[loadtest] building {home} from {inbox} (not timed)", flush=True)
        summary = run_pipeline(home=home, inbox=inbox, as_of=AS_OF)
        if not summary.success:
            raise SystemExit(f"the first build failed: {summary.error}")
    return ensure_demo_users(home)


def _targets(home: Path, user: str, dept: str, level: str, code: str) -> tuple[list[str], list[str]]:
    """(pages, downloads) an account's own portal offers it."""
    from pipelines.publish import FORMATS, load_registry
    from pipelines.publish.registry import GrantRefused
    from pipelines.reports import LISTS
    from pipelines.store import Store
    from pipelines.web.data import areas

    reg = load_registry()
    department = reg.department(dept)
    with Store(store_path(home)).connect(read_only=True, macros=False) as conn:
        scopes = [a.code for a in areas(conn, level, code)]
    as_of = AS_OF.isoformat()
    pages = ["/", "/reports", "/extracts"]
    downloads = []
    if dept in ("街道办", "社区"):
        pages += ["/queue", "/scorecard", "/queue?status=open&page=2"]
    if dept == "街道办":
        pages.append("/runs")
    for name in department.reports:
        for scope in scopes:
            q = {"name": name, "as_of": as_of, "scope": scope}
            pages += [f"/reports?{urlencode(q)}", f"/reports/view?{urlencode(q)}"]
            downloads.append(f"/reports/download?{urlencode(q)}")
            downloads += [f"/reports/list?{urlencode({**q, 'list': key})}" for key in LISTS.get(name, {})]
    for name in department.extracts:
        try:
            reg.grant(dept, name, user)
        except GrantRefused:
            continue
        for scope in scopes:
            downloads += [f"/extracts/download?{urlencode({'name': name, 'fmt': fmt, 'as_of': as_of, 'scope': scope})}"
                          for fmt in FORMATS]
    return pages, downloads


@dataclass
class Result:
    kind: str           # page | download
    path: str
    started: float
    seconds: float
    outcome: str        # "ok" or the error's kind: "HTTP 503", "timeout", "connection"
    asked: str = ""     # the whole request, kept for an error


@dataclass
class Run:
    results: list[Result] = field(default_factory=list)
    rebuild: dict = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _client(base: str, user: str, password: str, pages: list[str], downloads: list[str], share: float,
                  budget: dict, run: Run, timeout: float, rng: random.Random, ready: asyncio.Event,
                  go: asyncio.Event, logins: asyncio.Lock) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=timeout, follow_redirects=False) as c:
        # one login at a time: logins of one account from one address at the same instant are throttled
        # (pipelines/web/throttle.py counts each attempt before the password is checked)
        async with logins:
            page = await c.get("/login")
            token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            r = await c.post("/login", data={"csrf": token, "username": user, "password": password})
        if r.status_code != 303:
            raise SystemExit(f"login of {user} failed: HTTP {r.status_code}")
        ready.set()
        await go.wait()
        while budget["left"] > 0 and time.monotonic() < budget["deadline"] and not _after_rebuild(budget):
            budget["left"] -= 1
            kind = "download" if downloads and rng.random() < share else "page"
            path = rng.choice(downloads if kind == "download" else pages)
            started = time.monotonic()
            try:
                if kind == "download":
                    async with c.stream("GET", path) as resp:
                        async for _ in resp.aiter_bytes(1 << 16):
                            pass
                else:
                    resp = await c.get(path)
                outcome = "ok" if resp.status_code == 200 else f"HTTP {resp.status_code}"
            except httpx.TimeoutException:
                outcome = "timeout"
            except httpx.TransportError as exc:
                outcome = f"connection ({type(exc).__name__})"
            run.results.append(Result(kind, path.split("?")[0], started - budget["t0"], time.monotonic() - started,
                                      outcome, "" if outcome == "ok" else path))


def _after_rebuild(budget: dict) -> bool:
    """The rebuild has ended and the clients have gone on for ``after`` seconds against the new version."""
    return budget.get("rebuilt") is not None and time.monotonic() > budget["rebuilt"] + budget["after"]


def _add_batch(inbox: Path) -> Path:
    """A platform's re-export: a visits file again, under a new name, with one visit date moved (a new batch)."""
    source = sorted((inbox / "visits").glob("*.csv"))[0]
    lines = source.read_bytes().splitlines(keepends=True)
    new = inbox / "visits" / f"补充走访-{dt.datetime.now():%Y%m%d%H%M%S}.csv"
    new.write_bytes(b"".join(lines[:200]))
    return new


async def _rebuild(home: Path, inbox: Path, budget: dict, total: int, at: float, run: Run) -> None:
    from pipelines import versions

    while budget["left"] > total * (1 - at) and time.monotonic() < budget["deadline"]:
        await asyncio.sleep(0.1)
    before = versions.live(home)
    added = _add_batch(inbox)
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pipelines.cli", "run", "--home", str(home), "--inbox", str(inbox), "--as-of",
        AS_OF.isoformat(), cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    run.rebuild = {"started_s": round(started - budget["t0"], 1), "file": added.name, "before": before.id}
    out, _ = await proc.communicate()
    budget["rebuilt"] = time.monotonic()
    after = versions.live(home)
    run.rebuild.update(ended_s=round(time.monotonic() - budget["t0"], 1), seconds=round(time.monotonic() - started, 1),
                       exit_code=proc.returncode, after=after.id, published=after.id != before.id,
                       output=out.decode("utf-8", "replace").strip().splitlines()[-3:])


async def _drive(args, base: str, accounts: list, targets: dict, run: Run) -> float:
    rng = random.Random(args.seed)
    budget = {"left": args.requests, "deadline": float("inf"), "t0": 0.0, "after": args.after,
              "rebuilt": None}
    go = asyncio.Event()
    ready = [asyncio.Event() for _ in range(args.clients)]
    logins = asyncio.Lock()
    tasks = []
    for i in range(args.clients):
        user, password = accounts[i % len(accounts)]
        pages, downloads = targets[user]
        tasks.append(asyncio.create_task(_client(base, user, password, pages, downloads, args.downloads, budget, run,
                                                 args.timeout, random.Random(rng.random()), ready[i], go, logins)))
    # logins first (argon2: ≈ 0.1 s of CPU each), then everyone at once
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in ready)), timeout=600)
    budget["t0"] = time.monotonic()
    budget["deadline"] = budget["t0"] + args.seconds
    go.set()
    rebuild = (asyncio.create_task(_rebuild(args.home, args.inbox, budget, args.requests, args.rebuild_at, run))
               if not args.no_rebuild else None)
    done, pending = await asyncio.wait(tasks, timeout=args.seconds + args.timeout + 5)
    for t in pending:
        t.cancel()
    for t in done:
        t.result()
    elapsed = time.monotonic() - budget["t0"]
    if rebuild is not None:
        # the test is not over before the rebuild is: it must end and publish
        await asyncio.wait_for(rebuild, timeout=1800)
    return elapsed


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def report(run: Run, elapsed: float, args, load_before: str, load_after: str) -> tuple[str, dict, bool]:
    res = run.results
    errors: dict[str, int] = {}
    for r in res:
        if r.outcome != "ok":
            errors[r.outcome] = errors.get(r.outcome, 0) + 1
    rb = run.rebuild

    def stats(kind: str, window: str = "all") -> dict:
        def inside(r) -> bool:
            if window == "during":
                return bool(rb) and rb["started_s"] <= r.started <= rb.get("ended_s", 1e9)
            if window == "after":
                return bool(rb) and r.started > rb.get("ended_s", 1e9)
            return True
        xs = [r.seconds for r in res if r.kind == kind and r.outcome == "ok" and inside(r)]
        return {"n": len(xs), "p50": _pct(xs, 50), "p95": _pct(xs, 95), "p99": _pct(xs, 99),
                "max": max(xs) if xs else float("nan")}

    examples = {}
    for r in res:
        if r.outcome != "ok" and len(examples.setdefault(r.outcome, [])) < 5:
            examples[r.outcome].append(f"{r.asked} 第 {r.started:.1f} 秒，{r.seconds:.2f} 秒后")
    summary = {"clients": args.clients, "error_examples": examples, "requests": len(res), "seconds": round(elapsed, 1),
               "requests_per_s": round(len(res) / elapsed, 1) if elapsed else None,
               "download_share": args.downloads, "errors": errors, "pages": stats("page"),
               "downloads": stats("download"), "pages_during_rebuild": stats("page", "during"),
               "downloads_during_rebuild": stats("download", "during"),
               "pages_after_publish": stats("page", "after"), "downloads_after_publish": stats("download", "after"),
               "rebuild": {k: v for k, v in rb.items() if k != "output"}, "load_before": load_before,
               "load_after": load_after, "cpus": os.cpu_count(), "at": dt.datetime.now().isoformat(timespec="seconds")}
    ok = (not errors and summary["pages"]["p95"] <= PAGE_P95_S and summary["downloads"]["p95"] <= DOWNLOAD_P95_S
          and (args.no_rebuild or (rb.get("published") and rb.get("exit_code") == 0)))
    lines = [f"客户端 {args.clients}（账号 {len(ACCOUNTS)} 个），请求 {len(res)} 个，用时 {elapsed:.1f} 秒，"
             f"{summary['requests_per_s']} 请求/秒；下载占比 {args.downloads:.0%}",
             "错误：" + ("无" if not errors else "，".join(f"{k} × {v}（如 {'；'.join(examples[k][:2])}）"
                                                       for k, v in sorted(errors.items())))]
    lines.append("          数量      p50      p95      p99      最慢")
    for label, key in (("页面", "pages"), ("下载", "downloads"), ("更新期间页面", "pages_during_rebuild"),
                       ("更新期间下载", "downloads_during_rebuild"), ("发布后页面", "pages_after_publish"),
                       ("发布后下载", "downloads_after_publish")):
        s = summary[key]
        lines.append(f"{label:<8}{s['n']:>6} {s['p50']:>7.3f}s {s['p95']:>7.3f}s {s['p99']:>7.3f}s {s['max']:>7.3f}s")
    by_path: dict[str, list[float]] = {}
    for r in res:
        by_path.setdefault(r.path, []).append(r.seconds)
    summary["by_path"] = {k: {"n": len(v), "p50": _pct(v, 50), "p95": _pct(v, 95)} for k, v in sorted(by_path.items())}
    lines.append("各地址：" + "；".join(f"{k} {s['n']} 个 p50 {s['p50']:.2f}s p95 {s['p95']:.2f}s"
                                     for k, s in summary["by_path"].items()))
    if rb:
        lines.append(f"重建：第 {rb['started_s']} 秒开始，用时 {rb.get('seconds')} 秒，退出码 {rb.get('exit_code')}，"
                     f"版本 {rb['before']} → {rb.get('after')}（{'已发布' if rb.get('published') else '未发布'}）")
        if not rb.get("published"):
            lines += ["  " + line for line in rb.get("output", [])]
    lines.append(f"机器负载（1/5/15 分钟）：开始 {load_before}，结束 {load_after}；CPU {os.cpu_count()} 个")
    lines.append(("通过" if ok else "未通过") + f"：0 错误、页面 p95 ≤ {PAGE_P95_S:g} 秒、下载 p95 ≤ {DOWNLOAD_P95_S:g} 秒"
                 + ("" if args.no_rebuild else "、重建成功并发布"))
    return "\n".join(lines), summary, ok


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m pipelines.loadtest", description=__doc__.split("\n\n")[0])
    p.add_argument("--home", type=Path, default=WORK / "home")
    p.add_argument("--inbox", type=Path, default=WORK / "inbox")
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--downloads", type=float, default=0.10, help="share of requests that are downloads")
    p.add_argument("--requests", type=int, default=20000, help="at most this many requests")
    p.add_argument("--seconds", type=float, default=300, help="at most this long (the rebuild may run on)")
    p.add_argument("--rebuild-at", type=float, default=0.05,
                   help="start the rebuild when this share of the requests is spent")
    p.add_argument("--after", type=float, default=20,
                   help="seconds of requests after the rebuild has published, then stop")
    p.add_argument("--no-rebuild", action="store_true")
    p.add_argument("--timeout", type=float, default=30, help="a request taking longer is an error (timeout)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    args = p.parse_args(argv)
    args.home, args.inbox = args.home.resolve(), args.inbox.resolve()
    accounts = [(u, pw) for u, pw, *_ in prepare(args.home, args.inbox) if u in ACCOUNTS]
    by_user = {u: (d, s) for u, _, d, s in prepare(args.home, args.inbox)}
    from pipelines.web.users import get_user

    targets = {}
    for user, _ in accounts:
        u = get_user(args.home, user)
        targets[user] = _targets(args.home, user, by_user[user][0], u.scope_level, u.scope_code)
    port = _free_port()
    cmd = [sys.executable, "-m", "pipelines.cli", "serve", "--home", str(args.home), "--host", "127.0.0.1",
           "--port", str(port), "--no-demo-users"]
    # the server's own messages to a file (a pipe nobody reads would stop the server once full)
    log_path = args.home.parent / "server.log"
    log = open(log_path, "w", encoding="utf-8")
    server = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=log, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the portal did not start: {log_path.read_text(encoding='utf-8')[-4000:]}")
            time.sleep(0.2)
        load_before = _load()
        run = Run()
        elapsed = asyncio.run(_drive(args, base, accounts, targets, run))
        text, summary, ok = report(run, elapsed, args, load_before, _load())
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    print(text)
    if summary["errors"]:
        print(f"服务器日志：{log_path}")
    if args.json:
        args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
