# Recommended: native endpoint with accurate streaming usage
from anthropic import Anthropic

client = Anthropic(
    api_key="sk-ant-...",
    base_url="https://proxy.aispendops.com/v1/anthropic",
    default_headers={"X-ASO-API-Key": "aso_k_yourkey.secret"},
)

with client.messages.stream(
    model="claude-sonnet-4-5-20250929",
    max_tokens=1024,
    messages=[{"role": "user", "content": "Hello"}],
) as stream:
    for text in stream.text_stream:
        print(text, end="")
