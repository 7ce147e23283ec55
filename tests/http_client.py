"""A signed-in HTTP client for the served app, without a browser: what a crafted request can do.

It signs in through the sign-in form (its CSRF token), keeps the session cookie and sends Dash's
callback requests as the browser's renderer does (the `_csrf_token` cookie back as `X-CSRFToken`).
The session is tied to the address and the User-Agent, so every request of one client sends the same.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message

USER_AGENT = "hipline-tests/1.0"
UPDATE = "/_dash-update-component"


@dataclass
class Answer:
    status: int
    headers: Message  # case-insensitive; .get_all("Set-Cookie") for every cookie set
    body: str

    def json(self):
        return json.loads(self.body)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    """One browser's worth of cookies against the app at `url`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirects)

    def request(self, path: str, data: bytes | None = None, headers: dict | None = None, method: str | None = None):
        request = urllib.request.Request(
            self.url + path, data=data, headers={"User-Agent": USER_AGENT, **(headers or {})}, method=method
        )
        try:
            with self.opener.open(request, timeout=120) as response:
                return Answer(response.status, response.headers, response.read().decode(errors="replace"))
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.headers, error.read().decode(errors="replace"))

    def get(self, path: str, html: bool = True) -> Answer:
        return self.request(path, headers={"Accept": "text/html" if html else "application/json"})

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def sign_in(self, username: str, password: str, token: str | None = "from the form") -> Answer:
        """POST the sign-in form (with the token the form carries, unless `token` says otherwise)."""
        if token == "from the form":
            form = self.get("/login").body
            token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        fields = {"username": username, "password": password, **({"csrf_token": token} if token else {})}
        return self.request("/login", urllib.parse.urlencode(fields).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip

    def sign_out(self) -> Answer:
        """POST /logout with the CSRF token (Flask-WTF takes it from the header as from the form's field)."""
        return self.request("/logout", b"", {"X-CSRFToken": self.cookie("_csrf_token") or ""})

    def callback(self, body: dict, csrf: bool = True) -> Answer:
        """A callback request as Dash's renderer sends it."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if csrf and self.cookie("_csrf_token"):
            headers["X-CSRFToken"] = self.cookie("_csrf_token")
        return self.request(UPDATE, json.dumps(body).encode(), headers)


def callback_body(outputs: list[tuple[str | dict, str]], inputs: list[tuple], state: list[tuple] = ()) -> dict:
    """The JSON a callback request carries: outputs as (id, property); inputs and state as
    (id, property, value). The first input is the one that changed."""

    def key(component) -> str:
        if isinstance(component, dict):
            return json.dumps(component, sort_keys=True, separators=(",", ":"))
        return component

    def entry(item):
        component, prop, value = item
        return {"id": component, "property": prop, "value": value}

    output = "..".join(f"{key(c)}.{p}" for c, p in outputs)
    return {
        "output": f"..{output}.." if len(outputs) > 1 else output,
        "outputs": [{"id": c, "property": p} for c, p in outputs] if len(outputs) > 1 else
                   {"id": outputs[0][0], "property": outputs[0][1]},
        "inputs": [entry(i) for i in inputs],
        "changedPropIds": [f"{key(inputs[0][0])}.{inputs[0][1]}"] if inputs else [],
        "state": [entry(s) for s in state],
    }  # fmt: skip


def callback_for(dependencies: list[dict], output_part: str, values: dict, changed: str | None = None) -> dict:
    """The request for the callback whose output names `output_part` (a server one before one run in the
    browser), from the app's `/_dash-dependencies`: every input and state given its value from `values`
    ("id.property"; None otherwise); `changed` (default: the first input) is the one that fired."""
    named = [d for d in dependencies if output_part in d["output"]]
    dependency = next((d for d in named if not d.get("clientside_function")), named[0])
    outputs = [tuple(part.rsplit(".", 1)) for part in dependency["output"].strip(".").split("...")]
    inputs = [(i["id"], i["property"], values.get(f"{i['id']}.{i['property']}")) for i in dependency["inputs"]]
    state = [(i["id"], i["property"], values.get(f"{i['id']}.{i['property']}")) for i in dependency["state"]]
    if changed is not None:
        inputs.sort(key=lambda i: f"{i[0]}.{i[1]}" != changed)
    body = callback_body(outputs, inputs, state)
    body["output"] = dependency["output"]
    return body
