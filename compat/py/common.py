"""Shared plumbing for the Python SDK drivers of the compatibility suite.

Each driver runs one SDK's steps against SpendOps (COMPAT_PROXY) and, where a
comparison is needed, directly against the scripted upstream (COMPAT_DIRECT).
Every step appends one JSON line to COMPAT_OUT: what the SDK saw, the proxied
calls it made (request id, trace, dims it sent) and what the recorded event
must show. verify.py checks the events afterwards and writes the table.
"""

import json
import os
import time
import traceback
import warnings

# Model deprecation notices from the SDKs are noise here.
warnings.filterwarnings("ignore", category=DeprecationWarning)

PROXY = os.environ.get("COMPAT_PROXY", "http://127.0.0.1:8080")
DIRECT = os.environ.get("COMPAT_DIRECT", "")
KEY = os.environ.get("COMPAT_KEY", "aso_k_missing.key")
RUN = os.environ.get("COMPAT_RUN", str(os.getpid()))
OUT = os.environ.get("COMPAT_OUT", "/dev/stdout")

# What the scripted upstream answers (compat/upstream: replyWords).
REPLY = "Hello from the scripted upstream."
PROMPT = "Say hello."
WEATHER_PARAMS = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "City name"}},
    "required": ["city"],
}


class Check(Exception):
    """A failed assertion about what the SDK saw."""


def check(cond, msg):
    if not cond:
        raise Check(msg)


def dims_header(app):
    return f"team=compat,app={app},env=ci"


def dims_object(app):
    return {"team": "compat", "app": app, "env": "ci"}


class Driver:
    """Runs named steps for one SDK and records each outcome."""

    def __init__(self, sdk, version, app):
        self.sdk, self.version, self.app = sdk, version, app
        self.dims = dims_object(app)
        self.failed = 0

    def trace(self, step, where="proxy"):
        return f"{self.sdk}.{step}.{RUN}#{where}"

    def step(self, name, what):
        """Decorator: run fn(ctx) as step `name`; ctx.call() registers proxied calls."""

        def wrap(fn):
            ctx = StepContext(self, name)
            start = time.monotonic()
            rec = {"sdk": self.sdk, "version": self.version, "step": name, "what": what}
            try:
                fn(ctx)
                rec["ok"] = True
            except Exception as e:  # noqa: BLE001 - any SDK failure is a step failure
                rec["ok"] = False
                rec["error"] = f"{type(e).__name__}: {e}"
                if not isinstance(e, Check):
                    rec["trace"] = traceback.format_exc(limit=4)[-1500:]
                self.failed += 1
            rec["calls"] = ctx.calls
            rec["notes"] = ctx.notes
            rec["seconds"] = round(time.monotonic() - start, 3)
            with open(OUT, "a") as f:
                f.write(json.dumps(rec) + "\n")
            status = "ok " if rec["ok"] else "FAIL"
            print(f"[{status}] {self.sdk} {name}" + ("" if rec["ok"] else f": {rec['error']}"), flush=True)
            return fn

        return wrap


class StepContext:
    def __init__(self, driver, step):
        self.driver, self.step = driver, step
        self.calls, self.notes = [], []

    def trace(self, where="proxy"):
        return self.driver.trace(self.step, where)

    def call(self, request_id, trace=None, outcome="completed", status=200, usage="provider", dims=None, lookup=None):
        """Registers a proxied call whose event verify.py must check.

        usage: "provider" (event usage must equal what the upstream reported),
        "not-provider" (the provider reported none: estimate/none expected), or
        "any". lookup: event query parameters for SDKs that expose no
        response headers on a path (the request id then cannot be checked).
        """
        if lookup is None:
            check(request_id, "no X-ASO-Request-Id visible through the SDK's raw response")
        self.calls.append({
            "lookup": lookup,
            "request_id": request_id,
            "trace": self.trace() if trace is None else trace,
            "outcome": outcome,
            "http_status": status,
            "usage": usage,
            "dims": self.driver.dims if dims is None else dims,
        })

    def note(self, text):
        self.notes.append(text)


def value_diff(x, y, path="$"):
    """Lists where two JSON-like values differ, as readable paths."""
    if isinstance(x, dict) and isinstance(y, dict):
        out = []
        for k in sorted(set(x) | set(y)):
            if k not in y:
                out.append(f"{path}.{k} only through SpendOps ({json.dumps(x[k])[:80]})")
            elif k not in x:
                out.append(f"{path}.{k} missing through SpendOps (direct: {json.dumps(y[k])[:80]})")
            else:
                out += value_diff(x[k], y[k], f"{path}.{k}")
        return out
    if isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
        return [d for i, (a, b) in enumerate(zip(x, y)) for d in value_diff(a, b, f"{path}[{i}]")]
    if x != y:
        return [f"{path}: {json.dumps(x)[:80]} through SpendOps, {json.dumps(y)[:80]} direct"]
    return []


def first_diff(a, b):
    """Describes the first difference between two chunk sequences."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"chunk {i} of {len(a)}: " + "; ".join(value_diff(x, y)[:4])
    if len(a) != len(b):
        extra = a[len(b):] or b[len(a):]
        return f"chunk count differs: {len(a)} through SpendOps, {len(b)} direct (first extra: {json.dumps(extra[0])[:200]})"
    return ""


def timed(iterable):
    """Yields (monotonic arrival time, item) for a streamed iterable."""
    for item in iterable:
        yield time.monotonic(), item


# The scripted upstream paces streamed events 50 ms apart; a proxy that
# buffers a stream delivers everything at once. Through an unbuffered proxy
# the spread between the first and the last item stays near the upstream's.
MIN_SPREAD = float(os.environ.get("COMPAT_MIN_SPREAD", "0.1"))


def check_spread(times, what):
    spread = times[-1] - times[0] if times else 0
    check(spread >= MIN_SPREAD, f"{what}: all {len(times)} streamed items arrived within {spread*1000:.0f} ms (buffered stream?)")
