"""Runs the hosted product's documentation snippets (compat/snippets/) through
SpendOps with only the host and the placeholder key replaced, and records
them like an SDK driver does, for verify.py.

The curl snippets stay untouched: curl reads a .curlrc from CURL_HOME that
adds --dump-header, which is how the X-ASO-Request-Id header is read.

Env: COMPAT_PROXY, COMPAT_OUT, COMPAT_SNIPPET_KEYS (JSON: {"curl"|"openai"|
"anthropic": {"id": ..., "key": ...}}).
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "py"))
from common import PROXY, REPLY, Driver  # noqa: E402

HERE = Path(__file__).parent / "snippets"
HOSTED = "https://proxy.aispendops.com"
PLACEHOLDER_KEY = "aso_k_yourkey.secret"
KEYS = json.loads(os.environ.get("COMPAT_SNIPPET_KEYS", "{}"))


def localize(name, key):
    text = (HERE / name).read_text()
    assert HOSTED in text and PLACEHOLDER_KEY in text, f"{name}: not a hosted-docs snippet"
    return text.replace(HOSTED, PROXY).replace(PLACEHOLDER_KEY, key)


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"exit {p.returncode}: {p.stderr.strip()[-500:]}")
    return p.stdout


d = Driver("docs-snippets", "aso-docs 2.2 / 2.8", "snippets")
tmp = Path(tempfile.mkdtemp(prefix="compat-snippets-"))


def curl_step(step, what, file, dims):
    @d.step(step, what)
    def _(ctx):
        dump = tmp / f"{step}.headers"
        home = tmp / step
        home.mkdir()
        (home / ".curlrc").write_text(f'silent\ndump-header = "{dump}"\n')
        out = run(["bash", "-c", localize(file, KEYS["curl"]["key"])], env={**os.environ, "CURL_HOME": str(home)})
        body = json.loads(out)
        if body["choices"][0]["message"]["content"] != REPLY:
            raise AssertionError(f"unexpected body {out[:200]}")
        rid = next((line.split(":", 1)[1].strip() for line in dump.read_text().splitlines()
                    if line.lower().startswith("x-aso-request-id:")), None)
        ctx.call(rid, trace="", dims=dims)
        ctx.calls[-1]["upstream_path"] = "/v1/chat/completions"


curl_step("quickstart.step2.curl", "Quick Start step 2 curl, verbatim (host and key replaced); X-ASO-Request-Id present", "quickstart_step2.sh", {})
curl_step("quickstart.step3.curl", "Quick Start step 3 curl with X-ASO-Dims, verbatim", "quickstart_step3.sh", {"team": "backend", "app": "chatbot", "env": "prod"})


@d.step("quickstart.step4.openai-python", "Quick Start step 4 Python OpenAI SDK snippet, verbatim")
def _(ctx):
    out = run([sys.executable, "-c", localize("quickstart_step4.py", KEYS["openai"]["key"])])
    if out.strip() != REPLY:
        raise AssertionError(f"printed {out!r}")
    ctx.call(None, trace="", dims={"team": "backend", "app": "chatbot"}, lookup={"key_id": KEYS["openai"]["id"]})
    ctx.calls[-1]["upstream_path"] = "/v1/chat/completions"


@d.step("streaming.anthropic-python", "Streaming page: Anthropic SDK messages.stream snippet, verbatim")
def _(ctx):
    out = run([sys.executable, "-W", "ignore", "-c", localize("streaming_anthropic.py", KEYS["anthropic"]["key"])])
    if out != REPLY:
        raise AssertionError(f"printed {out!r}")
    ctx.call(None, trace="", dims={}, lookup={"key_id": KEYS["anthropic"]["id"]})
    ctx.calls[-1]["upstream_path"] = "/v1/messages"


sys.exit(1 if d.failed else 0)
