"""LiteLLM's Python SDK used as a client (api_base pointed at SpendOps):
OpenAI chat (plain, streamed, tools), Anthropic and Gemini chat, embeddings, a 429."""

import json
import os
import sys
import time

# LiteLLM otherwise fetches its model price map from the network at import.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_LOG", "ERROR")

from importlib.metadata import version  # noqa: E402

import litellm  # noqa: E402

from common import DIRECT, KEY, PROMPT, PROXY, REPLY, RUN, WEATHER_PARAMS, Driver, check, check_spread, dims_header, dims_object  # noqa: E402

litellm.suppress_debug_info = True
d = Driver("litellm-python", version("litellm"), "litellm-python")
MSGS = [{"role": "user", "content": PROMPT}]


def hdrs(trace, app=None):
    return {"X-ASO-API-Key": KEY, "X-ASO-Dims": dims_header(app or d.app), "X-Compat-Trace": trace}


def rid(obj):
    return (getattr(obj, "_hidden_params", None) or {}).get("additional_headers", {}).get("llm_provider-x-aso-request-id")


OPENAI = dict(api_base=f"{PROXY}/v1/openai/v1", api_key="sk-compat-openai", num_retries=0, max_retries=0)

# LiteLLM imports its streaming machinery lazily on the first stream; warm it
# up directly against the scripted upstream so that the stall does not look
# like a buffering proxy.
for _ in litellm.completion(model="openai/gpt-4.1", messages=MSGS, stream=True, api_base=f"{DIRECT}/v1", api_key="sk-compat-openai",
                            extra_headers={"X-Compat-Trace": f"litellm-warmup.{RUN}"}):
    pass


@d.step("openai.chat.plain", "completion(model='openai/gpt-4.1', api_base=SpendOps); request id via _hidden_params")
def _(ctx):
    r = litellm.completion(model="openai/gpt-4.1", messages=MSGS, extra_headers=hdrs(ctx.trace()), **OPENAI)
    ctx.call(rid(r))
    check(r.choices[0].message.content == REPLY, f"content {r.choices[0].message.content!r}")
    check(r.usage.total_tokens > 0, "usage")


@d.step("openai.chat.stream", "completion(stream=True) through SpendOps: text reassembled")
def _(ctx):
    s = litellm.completion(model="openai/gpt-4.1", messages=MSGS, stream=True, extra_headers=hdrs(ctx.trace()), **OPENAI)
    ctx.call(rid(s))
    times, text = [], ""
    for chunk in s:
        times.append(time.monotonic())
        text += chunk.choices[0].delta.content or ""
    check(text == REPLY, f"streamed text {text!r}")
    check_spread(times, "litellm stream")


@d.step("openai.tools", "completion(tools=[...]) on openai/: tool_calls parsed")
def _(ctx):
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city", "parameters": WEATHER_PARAMS}}]
    r = litellm.completion(model="openai/gpt-4.1", messages=MSGS, tools=tools, extra_headers=hdrs(ctx.trace()), **OPENAI)
    ctx.call(rid(r))
    tc = (r.choices[0].message.tool_calls or [None])[0]
    check(tc is not None and tc.function.name == "get_weather" and json.loads(tc.function.arguments) == {"city": "Paris"}, f"tool_calls {r.choices[0].message.tool_calls}")


@d.step("openai.embedding", "embedding(model='openai/text-embedding-3-small')")
def _(ctx):
    e = litellm.embedding(model="openai/text-embedding-3-small", input=["alpha", "beta gamma"], extra_headers=hdrs(ctx.trace()), **OPENAI)
    ctx.call(rid(e))
    check(len(e.data) == 2 and len(e.data[0]["embedding"]) == 8, f"embedding shape {len(e.data)}")


@d.step("anthropic.chat", "completion(model='anthropic/...', api_base=SpendOps /v1/anthropic)")
def _(ctx):
    r = litellm.completion(model="anthropic/claude-sonnet-4-6", messages=MSGS, max_tokens=256,
                           api_base=f"{PROXY}/v1/anthropic", api_key="sk-ant-compat", extra_headers=hdrs(ctx.trace()), num_retries=0)
    ctx.call(rid(r))
    check(r.choices[0].message.content == REPLY, f"content {r.choices[0].message.content!r}")


@d.step("anthropic.stream", "completion(model='anthropic/...', stream=True)")
def _(ctx):
    s = litellm.completion(model="anthropic/claude-sonnet-4-6", messages=MSGS, max_tokens=256, stream=True,
                           api_base=f"{PROXY}/v1/anthropic", api_key="sk-ant-compat", extra_headers=hdrs(ctx.trace()), num_retries=0)
    ctx.call(rid(s))
    text = "".join(c.choices[0].delta.content or "" for c in s)
    check(text == REPLY, f"streamed text {text!r}")


@d.step("gemini.chat", "completion(model='gemini/...', api_base=SpendOps /v1/google/v1beta); LiteLLM exposes no response headers here, event found by a unique dim")
def _(ctx):
    app = f"litellm-gemini-{RUN}"
    r = litellm.completion(model="gemini/gemini-2.5-flash", messages=MSGS, api_base=f"{PROXY}/v1/google/v1beta",
                           api_key="AIza-compat-google", extra_headers=hdrs(ctx.trace(), app=app), num_retries=0)
    check(r.choices[0].message.content == REPLY, f"content {r.choices[0].message.content!r}")
    if rid(r):
        ctx.call(rid(r), dims=dims_object(app))
    else:
        ctx.note("no X-ASO-Request-Id exposed by LiteLLM for gemini/; event looked up by dim.app")
        ctx.call(None, dims=dims_object(app), lookup={"dim.app": app})


@d.step("error.429", "provider 429 surfaces as litellm.RateLimitError")
def _(ctx):
    tr = d.trace("error429")
    try:
        litellm.completion(model="openai/gpt-4.1", messages=MSGS, extra_headers=hdrs(tr), **OPENAI)
    except litellm.RateLimitError as e:
        ctx.call(e.response.headers.get("x-aso-request-id") if e.response is not None else None, trace=tr, outcome="error", status=429, usage="any")
        check(e.status_code == 429, f"status {e.status_code}")
        check("Rate limit reached" in str(e), f"message {e}")
        return
    check(False, "no RateLimitError raised")


sys.exit(1 if d.failed else 0)
