"""anthropic-python through SpendOps: messages (plain, streamed with the
messages.stream helper, tools), a 429. Anthropic has no embeddings API."""

import sys
import time

import anthropic
from anthropic import Anthropic

from common import DIRECT, KEY, PROMPT, PROXY, REPLY, WEATHER_PARAMS, Driver, check, check_spread, dims_header, first_diff

d = Driver("anthropic-python", anthropic.__version__, "anthropic-python")
client = Anthropic(
    api_key="sk-ant-compat",
    base_url=f"{PROXY}/v1/anthropic",
    default_headers={"X-ASO-API-Key": KEY, "X-ASO-Dims": dims_header(d.app)},
    max_retries=0,
)
direct = Anthropic(api_key="sk-ant-compat", base_url=DIRECT, max_retries=0)
MODEL = "claude-sonnet-4-6"
MSGS = [{"role": "user", "content": PROMPT}]
TOOLS = [{"name": "get_weather", "description": "Weather for a city", "input_schema": WEATHER_PARAMS}]


def h(ctx, where="proxy"):
    return {"X-Compat-Trace": ctx.trace(where)}


@d.step("messages.plain", "messages.create via with_raw_response; body equals direct")
def _(ctx):
    raw = client.messages.with_raw_response.create(model=MODEL, max_tokens=256, messages=MSGS, extra_headers=h(ctx))
    ctx.call(raw.headers.get("x-aso-request-id"))
    got = raw.parse()
    check(isinstance(got, anthropic.types.Message), f"parse() gave {type(got)}")
    check(got.content[0].text == REPLY, f"text {got.content[0].text!r}")
    check(got.usage.cache_read_input_tokens is not None, "usage.cache_read_input_tokens missing")
    want = direct.messages.create(model=MODEL, max_tokens=256, messages=MSGS, extra_headers=h(ctx, "direct"))
    check(got.to_dict() == want.to_dict(), "message differs from direct")


@d.step("messages.stream", "messages.stream helper: event sequence equals direct, final message usage intact")
def _(ctx):
    times, got = [], []
    with client.messages.stream(model=MODEL, max_tokens=256, messages=MSGS, extra_headers=h(ctx)) as s:
        ctx.call(s.response.headers.get("x-aso-request-id"))
        for ev in s:
            times.append(time.monotonic())
            got.append(ev.to_dict())
        final = s.get_final_message()
    with direct.messages.stream(model=MODEL, max_tokens=256, messages=MSGS, extra_headers=h(ctx, "direct")) as s:
        want = [ev.to_dict() for ev in s]
        want_final = s.get_final_message()
    diff = first_diff(got, want)
    check(not diff, "stream seen through SpendOps differs from the direct stream: " + diff)
    check(final.content[0].text == REPLY, f"final text {final.content[0].text!r}")
    check(final.usage.to_dict() == want_final.usage.to_dict(), "final usage differs from direct")
    check_spread(times, "messages stream")


@d.step("messages.tools", "tool_use block, non-streamed and streamed (input_json_delta reassembled)")
def _(ctx):
    raw = client.messages.with_raw_response.create(model=MODEL, max_tokens=256, messages=MSGS, tools=TOOLS, extra_headers=h(ctx))
    ctx.call(raw.headers.get("x-aso-request-id"))
    msg = raw.parse()
    uses = [b for b in msg.content if b.type == "tool_use"]
    check(msg.stop_reason == "tool_use" and uses and uses[0].name == "get_weather" and uses[0].input == {"city": "Paris"}, f"content {msg.content}")
    tr = ctx.trace("proxy-stream")
    with client.messages.stream(model=MODEL, max_tokens=256, messages=MSGS, tools=TOOLS, extra_headers={"X-Compat-Trace": tr}) as s:
        ctx.call(s.response.headers.get("x-aso-request-id"), trace=tr)
        final = s.get_final_message()
    uses = [b for b in final.content if b.type == "tool_use"]
    check(uses and uses[0].input == {"city": "Paris"}, f"streamed tool_use {final.content}")


@d.step("error.429", "provider 429 surfaces as anthropic.RateLimitError with the provider's error body")
def _(ctx):
    tr = d.trace("error429")
    try:
        client.messages.create(model=MODEL, max_tokens=256, messages=MSGS, extra_headers={"X-Compat-Trace": tr})
    except anthropic.RateLimitError as e:
        ctx.call(e.response.headers.get("x-aso-request-id"), trace=tr, outcome="error", status=429, usage="any")
        check(e.status_code == 429, f"status {e.status_code}")
        check(isinstance(e.body, dict) and e.body.get("error", {}).get("type") == "rate_limit_error", f"body {e.body}")
        check(e.request_id and e.request_id.startswith("req_"), f"provider request id {e.request_id}")
        return
    check(False, "no RateLimitError raised")


sys.exit(1 if d.failed else 0)
