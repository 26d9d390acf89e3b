"""openai-python through SpendOps: chat (plain, streamed with and without
include_usage, tools), Responses (plain, streamed), embeddings, a 429."""

import json
import sys
import time

import openai
from openai import OpenAI

from common import DIRECT, KEY, PROMPT, PROXY, REPLY, WEATHER_PARAMS, Driver, check, check_spread, dims_header, first_diff

d = Driver("openai-python", openai.__version__, "openai-python")
client = OpenAI(
    api_key="sk-compat-openai",
    base_url=f"{PROXY}/v1/openai/v1",
    default_headers={"X-ASO-API-Key": KEY, "X-ASO-Dims": dims_header(d.app)},
    max_retries=0,
)
direct = OpenAI(api_key="sk-compat-openai", base_url=f"{DIRECT}/v1", max_retries=0)
MSGS = [{"role": "user", "content": PROMPT}]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city", "parameters": WEATHER_PARAMS}}]


def h(ctx, where="proxy"):
    return {"X-Compat-Trace": ctx.trace(where)}


@d.step("chat.plain", "chat.completions.create via with_raw_response; body equals direct")
def _(ctx):
    raw = client.chat.completions.with_raw_response.create(model="gpt-4.1", messages=MSGS, extra_headers=h(ctx))
    ctx.call(raw.headers.get("x-aso-request-id"))
    got = raw.parse()
    check(isinstance(got, openai.types.chat.ChatCompletion), f"parse() gave {type(got)}")
    check(got.choices[0].message.content == REPLY, f"content {got.choices[0].message.content!r}")
    want = direct.chat.completions.create(model="gpt-4.1", messages=MSGS, extra_headers=h(ctx, "direct"))
    check(got.to_dict() == want.to_dict(), "completion differs from direct: " + first_diff([got.to_dict()], [want.to_dict()]))


def stream_step(ctx, **kw):
    raw = client.chat.completions.with_raw_response.create(model="gpt-4.1", messages=MSGS, stream=True, extra_headers=h(ctx), **kw)
    ctx.call(raw.headers.get("x-aso-request-id"))
    times, got = [], []
    for t, chunk in ((time.monotonic(), c) for c in raw.parse()):
        check(isinstance(chunk, openai.types.chat.ChatCompletionChunk), f"chunk type {type(chunk)}")
        times.append(t)
        got.append(chunk.to_dict())
    want = [c.to_dict() for c in direct.chat.completions.create(model="gpt-4.1", messages=MSGS, stream=True, extra_headers=h(ctx, "direct"), **kw)]
    diff = first_diff(got, want)
    check(not diff, "stream seen through SpendOps differs from the direct stream: " + diff)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in got if c["choices"])
    check(text == REPLY, f"streamed text {text!r}")
    check_spread(times, "chat stream")
    return got


@d.step("chat.stream", "stream=True without stream_options: chunk sequence equals direct (no usage chunk leaks); event has provider usage")
def _(ctx):
    got = stream_step(ctx)
    check(all("usage" not in c for c in got), "a chunk carries a usage field the client did not ask for")


@d.step("chat.stream_usage", "stream=True with stream_options.include_usage: chunk sequence equals direct, usage chunk intact")
def _(ctx):
    got = stream_step(ctx, stream_options={"include_usage": True})
    check(got[-1]["choices"] == [] and got[-1].get("usage", {}).get("total_tokens"), "last chunk is not the usage chunk")


@d.step("chat.tools", "tool call, non-streamed and streamed (arguments reassembled from deltas)")
def _(ctx):
    raw = client.chat.completions.with_raw_response.create(model="gpt-4.1", messages=MSGS, tools=TOOLS, extra_headers=h(ctx))
    ctx.call(raw.headers.get("x-aso-request-id"))
    msg = raw.parse().choices[0].message
    check(msg.tool_calls and msg.tool_calls[0].function.name == "get_weather", f"tool_calls {msg.tool_calls}")
    check(json.loads(msg.tool_calls[0].function.arguments) == {"city": "Paris"}, "tool arguments")
    tr = ctx.trace("proxy-stream")
    raw = client.chat.completions.with_raw_response.create(model="gpt-4.1", messages=MSGS, tools=TOOLS, stream=True, extra_headers={"X-Compat-Trace": tr})
    ctx.call(raw.headers.get("x-aso-request-id"), trace=tr)
    name, args = "", ""
    for chunk in raw.parse():
        for tc in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            name += tc.function.name or ""
            args += tc.function.arguments or ""
    check(name == "get_weather" and json.loads(args) == {"city": "Paris"}, f"streamed tool call {name} {args}")


@d.step("embeddings", "embeddings.create (SDK default base64 encoding, decoded by the SDK); equals direct")
def _(ctx):
    raw = client.embeddings.with_raw_response.create(model="text-embedding-3-small", input=["alpha", "beta gamma"], extra_headers=h(ctx))
    ctx.call(raw.headers.get("x-aso-request-id"))
    got = raw.parse()
    check(len(got.data) == 2 and len(got.data[0].embedding) == 8, f"embeddings shape {len(got.data)}")
    want = direct.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta gamma"], extra_headers=h(ctx, "direct"))
    check([e.embedding for e in got.data] == [e.embedding for e in want.data], "vectors differ from direct")
    check(got.usage.prompt_tokens == want.usage.prompt_tokens, "usage differs")


@d.step("responses.plain", "responses.create (reasoning model: reasoning tokens reported)")
def _(ctx):
    raw = client.responses.with_raw_response.create(model="gpt-5-mini", input=PROMPT, extra_headers=h(ctx))
    ctx.call(raw.headers.get("x-aso-request-id"))
    got = raw.parse()
    check(got.output_text == REPLY, f"output_text {got.output_text!r}")
    check(got.usage.output_tokens_details.reasoning_tokens > 0, "reasoning tokens")


@d.step("responses.stream", "responses.create(stream=True): event sequence equals direct")
def _(ctx):
    raw = client.responses.with_raw_response.create(model="gpt-5-mini", input=PROMPT, stream=True, extra_headers=h(ctx))
    ctx.call(raw.headers.get("x-aso-request-id"))
    times, got = [], []
    for ev in raw.parse():
        times.append(time.monotonic())
        got.append(ev.to_dict())
    want = [ev.to_dict() for ev in direct.responses.create(model="gpt-5-mini", input=PROMPT, stream=True, extra_headers=h(ctx, "direct"))]
    diff = first_diff(got, want)
    check(not diff, "responses stream differs from direct: " + diff)
    check(got[-1]["type"] == "response.completed" and got[-1]["response"]["usage"]["total_tokens"] > 0, "no response.completed with usage")
    check_spread(times, "responses stream")


@d.step("error.429", "provider 429 surfaces as openai.RateLimitError with the provider's error body")
def _(ctx):
    tr = d.trace("error429")
    try:
        client.chat.completions.create(model="gpt-4.1", messages=MSGS, extra_headers={"X-Compat-Trace": tr})
    except openai.RateLimitError as e:
        ctx.call(e.response.headers.get("x-aso-request-id"), trace=tr, outcome="error", status=429, usage="any")
        check(e.status_code == 429, f"status {e.status_code}")
        check(e.code == "rate_limit_exceeded" and e.type == "tokens", f"error code/type {e.code}/{e.type}")
        check("Rate limit reached" in e.message, f"message {e.message!r}")
        return
    check(False, "no RateLimitError raised")


sys.exit(1 if d.failed else 0)
