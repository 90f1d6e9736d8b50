// Search on the client: the request (GET /api/rooms/{room}/search, docs/protocol.md), a hit's
// snippet as plain text parts to highlight (never HTML), and what to say when it fails. No DOM:
// tested in Node.

/** Hits per page. */
export const SEARCH_LIMIT = 20;
/** `q` is 1–200 characters (server: `MAX_QUERY_CHARS`). */
export const MAX_QUERY_CHARS = 200;

/** The request URL for `q` in `room`, from `cursor` when paging on. */
export function searchUrl(origin, room, q, { cursor = null, sort = 'relevance', limit = SEARCH_LIMIT } = {}) {
  const u = new URL(`/api/rooms/${encodeURIComponent(room)}/search`, origin);
  u.searchParams.set('q', q);
  u.searchParams.set('limit', String(limit));
  if (sort !== 'relevance') u.searchParams.set('sort', sort);
  if (cursor) u.searchParams.set('cursor', cursor);
  return u.toString();
}

/**
 * A snippet and its marks (`[start, end)` in Unicode characters) as parts `{text, mark}` in
 * order. Marks out of range or overlapping are dropped, so a bad answer cannot break the page.
 */
export function snippetParts(snippet, marks) {
  const chars = Array.from(typeof snippet === 'string' ? snippet : '');
  const parts = [];
  let at = 0;
  for (const m of Array.isArray(marks) ? marks : []) {
    const [start, end] = Array.isArray(m) ? m : [];
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) continue;
    if (start < at || end <= start || end > chars.length) continue;
    if (start > at) parts.push({ text: chars.slice(at, start).join(''), mark: false });
    parts.push({ text: chars.slice(start, end).join(''), mark: true });
    at = end;
  }
  if (at < chars.length) parts.push({ text: chars.slice(at).join(''), mark: false });
  return parts;
}

/** What to tell the reader when a search failed: the server's own words for a bad query. */
export function searchErrorText(status, body) {
  const message = body?.error?.message;
  if (status === 400 && typeof message === 'string' && message) return `That search did not work: ${message}.`;
  if (status === 404) return 'Search is not available in this room.';
  return 'Search failed. Check your connection and try again.';
}

/**
 * Runs one search. Resolves `{messages, cursor}` or `{error}` (the text for the reader); never
 * rejects. `fetchImpl` is a parameter for the tests.
 */
export async function runSearch(origin, room, q, opts = {}, fetchImpl = globalThis.fetch) {
  try {
    const res = await fetchImpl(searchUrl(origin, room, q, opts));
    const body = await res.json().catch(() => null);
    if (!res.ok) return { error: searchErrorText(res.status, body) };
    const messages = Array.isArray(body?.messages) ? body.messages.filter((m) => Number.isSafeInteger(m?.id)) : [];
    return { messages, cursor: typeof body?.cursor === 'string' ? body.cursor : null };
  } catch {
    return { error: searchErrorText(0, null) };
  }
}
