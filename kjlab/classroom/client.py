"""A learner's side of the hub, for tests and the density bench: log in, wait for the server,
run code in a kernel over Jupyter's websocket protocol -- what JupyterLab does, without a browser."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import requests


class Learner:
    def __init__(self, base: str, login: str, password: str):
        self.base, self.login, self.password = base.rstrip("/"), login, password
        self.session = requests.Session()
        self.user = None

    def _xsrf(self, prefix: str = "/hub/") -> str:
        """The hub and the learner's server each set an _xsrf cookie, on their own paths."""
        found = [c for c in self.session.cookies if c.name == "_xsrf"]
        for cookie in found:
            if (cookie.path or "/").rstrip("/").startswith(prefix.rstrip("/")) or prefix.startswith(cookie.path or "/"):
                return cookie.value
        return found[0].value if found else ""

    def log_in(self, timeout: float = 180) -> float:
        """Log in and wait until the learner's server answers; returns the seconds it took."""
        started = time.monotonic()
        self.session.get(f"{self.base}/hub/login", timeout=30)
        r = self.session.post(f"{self.base}/hub/login",
                              data={"username": self.login, "password": self.password,
                                    "_xsrf": self._xsrf()}, timeout=timeout)
        if r.status_code == 403:
            raise PermissionError(f"the hub refused {self.login}'s login")
        r.raise_for_status()
        while time.monotonic() - started < timeout:
            who = self.session.get(f"{self.base}/hub/api/user", timeout=30,
                                   headers={"X-XSRFToken": self._xsrf()})
            if who.ok:
                info = who.json()
                self.user = info["name"]
                server = info.get("servers", {}).get("", {})
                if server.get("ready"):
                    break
            time.sleep(0.5)
        else:
            raise TimeoutError(f"{self.login}'s server did not start within {timeout}s")
        # The OAuth round trip into the learner's own server (sets its cookie).
        self.session.get(f"{self.base}/user/{self.user}/lab", timeout=60).raise_for_status()
        return time.monotonic() - started

    def api(self, method: str, path: str, **kwargs):
        headers = {"X-XSRFToken": self._xsrf(f"/user/{self.user}/")}
        r = self.session.request(method, f"{self.base}/user/{self.user}/api/{path}", headers=headers, timeout=60,
                                 **kwargs)
        r.raise_for_status()
        return r.json() if r.content else None

    def run(self, code: str, timeout: float = 600) -> dict:
        """Run ``code`` in a new kernel; returns {"status", "stdout", "error"} when it finished."""
        kernel = self.api("POST", "kernels", json={"name": "python3"})
        try:
            return asyncio.run(self._execute(kernel["id"], code, timeout))
        finally:
            try:
                self.api("DELETE", f"kernels/{kernel['id']}")
            except requests.RequestException:
                pass

    async def _execute(self, kernel_id: str, code: str, timeout: float) -> dict:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        url = self.base.replace("http", "ws", 1) + f"/user/{self.user}/api/kernels/{kernel_id}/channels"
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.session.cookies
                            if c.name != "_xsrf" or c.value == self._xsrf(f"/user/{self.user}/"))
        ws = await websocket_connect(HTTPRequest(url, headers={"Cookie": cookies,
                                                               "X-XSRFToken": self._xsrf(f"/user/{self.user}/")}))
        msg_id = uuid.uuid4().hex
        ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": self.login,
                       "session": uuid.uuid4().hex, "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        execution = Execution(msg_id)
        deadline = time.monotonic() + timeout
        while not execution.done:
            raw = await asyncio.wait_for(ws.read_message(), max(1.0, deadline - time.monotonic()))
            if raw is None:
                raise ConnectionError("the kernel's websocket closed")
            execution.feed(json.loads(raw))
        ws.close()
        return execution.result()


class Execution:
    """One execute_request's messages, as they come over the kernel's websocket. It is over when
    both the shell's execute_reply and the IOPub status "idle" have come: the two channels are not
    ordered with each other, so output (stream) can still arrive after the reply -- under load it did,
    and a check's last printed line was missing -- while the kernel sends idle only after every output
    of the request (the Jupyter messaging protocol, "Kernel status"; nbclient waits for it too)."""

    def __init__(self, msg_id: str):
        self.msg_id = msg_id
        self.out: list[str] = []
        self.error: str | None = None
        self.status: str | None = None
        self.idle = False

    @property
    def done(self) -> bool:
        return self.status is not None and self.idle

    def feed(self, msg: dict) -> None:
        if msg.get("parent_header", {}).get("msg_id") != self.msg_id:
            return
        kind = msg["header"]["msg_type"]
        if kind == "stream":
            self.out.append(msg["content"]["text"])
        elif kind == "error":
            self.error = "\n".join(msg["content"].get("traceback", [])) or msg["content"].get("evalue")
        elif kind == "execute_reply":
            self.status = msg["content"]["status"]
        elif kind == "status" and msg["content"].get("execution_state") == "idle":
            self.idle = True

    def result(self) -> dict:
        return {"status": self.status, "stdout": "".join(self.out), "error": self.error}
