"""Chat model adapters: any OpenAI-compatible chat completions API (OpenRouter by default)."""

from pantheon_adapters.llm.openai_compatible import OPENROUTER_BASE_URL, OpenAICompatibleChatModel

__all__ = ["OPENROUTER_BASE_URL", "OpenAICompatibleChatModel"]
