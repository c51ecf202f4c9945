"""The streaming guide's LLM chat: an OpenAI-style completion read token by token over SSE.

The stand-in partner streams four tokens and ``[DONE]``; against the real provider, pass its
base URL (``https://api.openai.com/v1``) and your key.

Run it: ``uv run --frozen docs/examples/streaming_chat.py``.
"""

import asyncio

from _partner import partner_api  # a stand-in partner API on 127.0.0.1

from lexigram.http import BaseURLHTTPClient


async def chat(base_url: str, api_key: str, prompt: str) -> str:
    payload = {
        "model": "gpt-4o-mini",
        "stream": True,
        "messages": [{"role": "user", "content": prompt}],
    }
    tokens: list[str] = []
    async with BaseURLHTTPClient(  # noqa: SIM117 (one client, many streams in real code)
        base_url,
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=30.0,  # up to the response headers; the body is bounded by idle_timeout
    ) as llm:
        async with llm.stream(
            "POST",
            "/chat/completions",
            json=payload,
            headers={"Accept": "text/event-stream"},
            idle_timeout=60.0,  # the longest silence between two tokens
        ) as response:
            response.raise_for_status()  # HTTPStatusError, with the first 64 KiB of the body
            async for event in response.sse():
                if event.data == "[DONE]":
                    break
                delta = event.json()["choices"][0]["delta"]
                tokens.append(delta.get("content", ""))
                print(delta.get("content", ""), end="", flush=True)
    print()
    return "".join(tokens)


async def run() -> None:
    async with partner_api() as partner:
        text = await chat(f"{partner}/v1", "sk-demo", "Write a haiku about HTTP.")
        assert text == "Bytes cross the wire"


if __name__ == "__main__":
    asyncio.run(run())
