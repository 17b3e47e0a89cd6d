"""Login throttling: growing delays per account *and* client address, counted before the password is checked.

Every login attempt first takes the portal database's write lock (``BEGIN IMMEDIATE``), checks the locks
and counts itself, and only then is the password verified. So a burst of attempts sent at the same
instant is counted as it arrives: the first is checked, the rest find the lock and are answered 429, and
a right password among them is refused like the wrong ones.

Three counters, each forgotten after :data:`FORGET_S` without an attempt:
- ``pair`` (this account from this address): every attempt counts, the refused ones too; after the n-th
  the next waits 2^(n-1) s (1, 2, 4, … s), at most :data:`MAX_DELAY_S`. A success clears it. Someone
  guessing from one address slows down only themselves: the same account from another address is not
  delayed by it.
- ``addr`` (this address, any account): checked attempts; beyond :data:`ADDR_FREE` failures the address
  waits 2^(n-ADDR_FREE-1) s (password spraying from one machine).
- ``user`` (this account, any address): checked attempts; beyond :data:`USER_FREE` failures, addresses the
  account has never logged in from (within :data:`KNOWN_DAYS`) wait likewise (guessing from many
  machines). The user's own known addresses are exempt, so nobody can lock a user out from elsewhere.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

from pipelines.homedb import transaction

FORGET_S = 3600
MAX_DELAY_S = 15 * 60
ADDR_FREE = 20
USER_FREE = 50
KNOWN_DAYS = 90


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0        # seconds, when refused
    why: str = ""               # for the audit trail


def _delay(failures: int, free: int) -> float:
    over = failures - free
    return 0.0 if over <= 0 else float(min(2 ** (over - 1), MAX_DELAY_S))


def _keys(username: str, ip: str) -> dict[str, str]:
    return {"pair": f"pair:{username}\n{ip}", "addr": f"addr:{ip}", "user": f"user:{username}"}


def begin(home: Path, username: str, ip: str, now: float | None = None) -> Decision:
    """Before the password is checked: refuse while a lock applies, else count this attempt as a failure
    (undone by :func:`succeeded`)."""
    now = time.time() if now is None else now
    keys = _keys(username, ip)
    with transaction(home) as conn:
        state = {k: (0, 0.0) for k in keys}
        for key, failures, last_at, locked_until in conn.execute(
                "SELECT key, failures, last_at, locked_until FROM login_throttle WHERE key IN (?, ?, ?)",
                list(keys.values())).fetchall():
            kind = next(k for k, v in keys.items() if v == key)
            state[kind] = (failures if now - last_at < FORGET_S else 0, locked_until)
        known = conn.execute("SELECT 1 FROM login_known WHERE user = ? AND ip = ? AND last_ok >= ?",
                             [username, ip, now - KNOWN_DAYS * 86400]).fetchall()
        binding = [k for k in ("pair", "addr") + (() if known else ("user",)) if state[k][1] > now]

        def put(kind: str, failures: int, locked_until: float) -> None:
            conn.execute("INSERT INTO login_throttle VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                         "failures = excluded.failures, last_at = excluded.last_at, "
                         "locked_until = excluded.locked_until", [keys[kind], failures, now, locked_until])

        pair_failures = state["pair"][0] + 1
        pair_lock = max(state["pair"][1], now + _delay(pair_failures, 0))
        put("pair", pair_failures, pair_lock)
        if binding:
            until = max(state[k][1] for k in binding)
            if "pair" in binding:
                until = pair_lock
            why = {"pair": f"该账号从本地址已连续 {pair_failures} 次尝试",
                   "addr": f"本地址已有 {state['addr'][0]} 次登录失败",
                   "user": f"该账号已有 {state['user'][0]} 次登录失败（来自未登录过的地址）"}
            return Decision(False, max(1, math.ceil(until - now)), "；".join(why[k] for k in binding))
        for kind, free in (("addr", ADDR_FREE), ("user", USER_FREE)):
            failures = state[kind][0] + 1
            put(kind, failures, now + _delay(failures, free))
    return Decision(True)


def succeeded(home: Path, username: str, ip: str, now: float | None = None) -> None:
    """The password was right: clear this account's delay from this address, take back the attempt
    counted on the address and the account, and remember the address as the user's."""
    now = time.time() if now is None else now
    keys = _keys(username, ip)
    with transaction(home) as conn:
        conn.execute("DELETE FROM login_throttle WHERE key = ?", [keys["pair"]])
        for kind, free in (("addr", ADDR_FREE), ("user", USER_FREE)):
            conn.execute("UPDATE login_throttle SET failures = max(failures - 1, 0), "
                         "locked_until = CASE WHEN failures - 1 <= ? THEN 0 ELSE locked_until END WHERE key = ?",
                         [free, keys[kind]])
        conn.execute("INSERT INTO login_known VALUES (?, ?, ?) ON CONFLICT (user, ip) DO UPDATE SET "
                     "last_ok = excluded.last_ok", [username, ip, now])


def forget_user(conn, username: str) -> None:
    """An administrator reset the password: the account starts with no delays (inside their transaction)."""
    conn.execute("DELETE FROM login_throttle WHERE key = ? OR substr(key, 1, ?) = ?",
                 [f"user:{username}", len(username) + 6, f"pair:{username}\n"])
