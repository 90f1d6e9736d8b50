// Links in message text: http(s) URLs become <a> elements, everything else stays text. The
// parts are computed as plain data (`linkParts`, tested in Node with hostile strings) and turned
// into DOM text nodes and anchors (`linkify`): never innerHTML, so no markup in a message is ever
// parsed, and only a URL the URL parser reads as http: or https: is ever an href (no javascript:,
// data:, vbscript:, nor a relative link).

/** A URL candidate: http:// or https:// (any case) then characters that are not spaces or
 * obvious delimiters. Trailing punctuation is trimmed after the match. */
const URL_START = /https?:\/\/[^\s<>"'`\p{Cc}]+/giu;

/** Punctuation that ends a sentence rather than a URL, when it is the URL's last character. */
const TRAILING = /[.,;:!?'")\]}>*]+$/u;

/** The longest URL made a link; a longer one stays text (nobody reads it, it only costs). */
export const MAX_URL_CHARS = 2048;

/**
 * Splits `text` into parts: `{text}` for plain text and `{text, href}` for a link. `href` is
 * the parsed URL's own serialization, and only ever http: or https:.
 */
export function linkParts(text) {
  const s = String(text ?? '');
  const parts = [];
  let last = 0;
  for (const match of s.matchAll(URL_START)) {
    let raw = match[0];
    // A closing bracket that the URL opened belongs to it (Wikipedia's "Foo_(bar)").
    const trail = raw.match(TRAILING);
    if (trail) {
      let keep = raw.length - trail[0].length;
      if (trail[0].startsWith(')') && countOf(raw.slice(0, keep), '(') > countOf(raw.slice(0, keep), ')')) keep += 1;
      raw = raw.slice(0, keep);
    }
    const href = safeHref(raw);
    if (!href) continue;
    const start = match.index;
    if (start > last) parts.push({ text: s.slice(last, start) });
    parts.push({ text: raw, href });
    last = start + raw.length;
  }
  if (last < s.length || parts.length === 0) parts.push({ text: s.slice(last) });
  return parts;
}

function countOf(s, ch) {
  let n = 0;
  for (const c of s) if (c === ch) n += 1;
  return n;
}

/** The URL as an href if it is an absolute http(s) URL with a host; else null. */
export function safeHref(raw) {
  if (typeof raw !== 'string' || raw.length > MAX_URL_CHARS) return null;
  let url;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (!url.hostname) return null;
  return url.href;
}

/** Appends `text` to `parent` as text nodes and safe links (a new tab, no referrer). */
export function linkify(parent, text, doc = parent.ownerDocument) {
  for (const part of linkParts(text)) {
    if (!part.href) {
      parent.append(doc.createTextNode(part.text));
      continue;
    }
    const a = doc.createElement('a');
    a.className = 'msg-link';
    a.href = part.href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer nofollow';
    a.append(doc.createTextNode(part.text));
    parent.append(a);
  }
  return parent;
}
