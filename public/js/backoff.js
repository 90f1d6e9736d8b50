// Exponential backoff with "equal jitter", shared by reconnects and history retries.

/** Attempt 0 → base/2 to base ms, doubling each attempt, capped at `max`. */
export function backoffDelay(attempt, { base = 500, max = 10000, random = Math.random } = {}) {
  const cap = Math.min(max, base * 2 ** Math.max(0, attempt));
  return Math.round(cap / 2 + random() * (cap / 2));
}
