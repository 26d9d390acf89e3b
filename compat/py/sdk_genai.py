"""google-genai (Gemini API) through SpendOps: generate_content (plain,
streamed via alt=sse, function call), embed_content, a 429."""

import sys
import time

from google import genai
from google.genai import errors, types

from common import DIRECT, KEY, PROMPT, PROXY, REPLY, Driver, check, check_spread, dims_header, first_diff

d = Driver("google-genai-python", genai.__version__, "google-genai-python")
client = genai.Client(
    api_key="AIza-compat-google",
    http_options=types.HttpOptions(
        base_url=f"{PROXY}/v1/google",
        headers={"X-ASO-API-Key": KEY, "X-ASO-Dims": dims_header(d.app)},
        retry_options=types.HttpRetryOptions(attempts=1),
    ),
)
direct = genai.Client(api_key="AIza-compat-google", http_options=types.HttpOptions(base_url=DIRECT))
MODEL = "gemini-2.5-flash"
TOOL = types.Tool(function_declarations=[types.FunctionDeclaration(
    name="get_weather", description="Weather for a city",
    parameters=types.Schema(type="OBJECT", properties={"city": types.Schema(type="STRING")}, required=["city"]),
)])


def cfg(trace, **kw):
    return types.GenerateContentConfig(http_options=types.HttpOptions(headers={"X-Compat-Trace": trace}), **kw)


def rid(resp):
    h = resp.sdk_http_response.headers if resp.sdk_http_response else {}
    return {k.lower(): v for k, v in (h or {}).items()}.get("x-aso-request-id")


def dump(resp):
    out = resp.model_dump(mode="json", exclude_none=True)
    out.pop("sdk_http_response", None)
    return out


@d.step("generate.plain", "models.generate_content; request id from sdk_http_response.headers; equals direct")
def _(ctx):
    got = client.models.generate_content(model=MODEL, contents=PROMPT, config=cfg(ctx.trace()))
    ctx.call(rid(got))
    check(got.text == REPLY, f"text {got.text!r}")
    check(got.usage_metadata.prompt_token_count and got.usage_metadata.total_token_count, "usage_metadata missing")
    want = direct.models.generate_content(model=MODEL, contents=PROMPT, config=cfg(ctx.trace("direct")))
    check(dump(got) == dump(want), "response differs from direct: " + first_diff([dump(got)], [dump(want)]))


@d.step("generate.stream", "models.generate_content_stream (alt=sse, CRLF-framed): chunks equal direct")
def _(ctx):
    times, got, ids = [], [], []
    for chunk in client.models.generate_content_stream(model=MODEL, contents=PROMPT, config=cfg(ctx.trace())):
        times.append(time.monotonic())
        got.append(dump(chunk))
        ids.append(rid(chunk))
    ctx.call(ids[0] if ids else None)
    want = [dump(c) for c in direct.models.generate_content_stream(model=MODEL, contents=PROMPT, config=cfg(ctx.trace("direct")))]
    diff = first_diff(got, want)
    check(not diff, "stream seen through SpendOps differs from the direct stream: " + diff)
    text = "".join(c["candidates"][0]["content"]["parts"][0].get("text", "") for c in got)
    check(text == REPLY, f"streamed text {text!r}")
    check_spread(times, "gemini stream")


@d.step("generate.tools", "function call (automatic function calling off)")
def _(ctx):
    got = client.models.generate_content(model=MODEL, contents=PROMPT, config=cfg(
        ctx.trace(), tools=[TOOL], automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True)))
    ctx.call(rid(got))
    fc = got.function_calls
    check(fc and fc[0].name == "get_weather" and fc[0].args == {"city": "Paris"}, f"function_calls {fc}")


@d.step("embed", "models.embed_content (Gemini reports no usage: event must not claim provider usage)")
def _(ctx):
    got = client.models.embed_content(model="gemini-embedding-001", contents=["alpha", "beta gamma"],
                                      config=types.EmbedContentConfig(http_options=types.HttpOptions(headers={"X-Compat-Trace": ctx.trace()})))
    ctx.call(rid(got), usage="not-provider")
    check(len(got.embeddings) == 2 and len(got.embeddings[0].values) == 8, f"embeddings {got.embeddings}")


@d.step("error.429", "provider 429 surfaces as genai.errors.ClientError with RESOURCE_EXHAUSTED")
def _(ctx):
    tr = d.trace("error429")
    try:
        client.models.generate_content(model=MODEL, contents=PROMPT, config=cfg(tr))
    except errors.ClientError as e:
        headers = {k.lower(): v for k, v in e.response.headers.items()} if e.response is not None else {}
        ctx.call(headers.get("x-aso-request-id"), trace=tr, outcome="error", status=429, usage="any")
        check(e.code == 429 and e.status == "RESOURCE_EXHAUSTED", f"code/status {e.code}/{e.status}")
        check("exceeded your current quota" in (e.message or ""), f"message {e.message!r}")
        return
    check(False, "no ClientError raised")


sys.exit(1 if d.failed else 0)
