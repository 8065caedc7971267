"""AI notes and the tutor chat over any OpenAI-compatible model server (docs/ai.md)."""
