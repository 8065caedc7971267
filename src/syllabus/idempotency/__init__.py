"""Idempotency-Key for writes: the stored answer to a request, replayed on its retries."""
