from openai import OpenAI

client = OpenAI(
    api_key="sk-your-openai-key",
    base_url="https://proxy.aispendops.com/v1/openai/v1",
    default_headers={
        "X-ASO-API-Key": "aso_k_yourkey.secret",
        "X-ASO-Dims": "team=backend,app=chatbot",
    },
)

response = client.chat.completions.create(
    model="gpt-4.1",
    messages=[{"role": "user", "content": "Hello!"}],
)
print(response.choices[0].message.content)
