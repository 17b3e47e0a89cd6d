"""A response that records its outcome after it has been sent: a download is audited as delivered only
once its last byte has been handed to the connection, and as ``incomplete`` (with the bytes sent) when the
client went away first."""
from __future__ import annotations

from collections.abc import Callable

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response


class Delivered(Response):
    """Sends ``inner`` unchanged, then calls ``on_done(result, detail)``: result ``ok`` (every byte sent),
    ``incomplete`` (the client disconnected before the end) or ``error``; detail: bytes sent, status."""

    def __init__(self, inner: Response, on_done: Callable[[str, str], None]):
        self.inner, self.on_done = inner, on_done
        self.status_code, self.background = inner.status_code, None

    async def __call__(self, scope, receive, send) -> None:
        sent, status, finished, gone = 0, None, False, False

        async def watch_receive():
            nonlocal gone
            message = await receive()
            if message["type"] == "http.disconnect":
                gone = True
            return message

        async def count_send(message):
            nonlocal sent, status, finished
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not gone:
                sent += len(message.get("body", b""))
                finished = finished or not message.get("more_body", False)
            await send(message)

        result = "error"
        try:
            await self.inner(scope, watch_receive, count_send)
            expected = self.inner.headers.get("content-length")
            if scope.get("method") == "HEAD":
                result = "ok" if status and status < 400 else "error"
            elif finished and (expected is None or sent == int(expected)):
                result = "ok"
            else:
                result = "incomplete"
        finally:
            expected = self.inner.headers.get("content-length")
            detail = (f"已发送 {sent}" + (f"/{expected}" if expected is not None else "") + " 字节"
                      + (f"（HTTP {status}）" if status not in (200, None) else "")
                      + ("（HEAD，未发送内容）" if scope.get("method") == "HEAD" else "")
                      + ("（客户端在发送完成前断开）" if result == "incomplete" else ""))
            with anyio.CancelScope(shield=True):     # recorded even when the request is being cancelled
                await run_in_threadpool(self.on_done, result, detail)
