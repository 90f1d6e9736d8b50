// Links in messages (public/js/linkify.js): only absolute http(s) URLs become links, with hostile
// strings that try to smuggle markup, other schemes or attributes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linkParts, safeHref } from '../../public/js/linkify.js';

const links = (text) => linkParts(text).filter((p) => p.href);

test('http and https URLs become links; the text around them stays text', () => {
  assert.deepEqual(linkParts('see https://example.com/a?b=1#c, then'), [
    { text: 'see ' },
    { text: 'https://example.com/a?b=1#c', href: 'https://example.com/a?b=1#c' },
    { text: ', then' },
  ]);
  assert.deepEqual(
    links('HTTP://EXAMPLE.com').map((p) => p.href),
    ['http://example.com/'],
  );
  assert.deepEqual(linkParts('no links here'), [{ text: 'no links here' }]);
  assert.deepEqual(linkParts(''), [{ text: '' }]);
});

test('trailing punctuation ends the sentence, a balanced parenthesis stays in the URL', () => {
  assert.equal(links('(https://example.com/x).')[0].text, 'https://example.com/x');
  assert.equal(links('https://en.wikipedia.org/wiki/Foo_(bar)')[0].text, 'https://en.wikipedia.org/wiki/Foo_(bar)');
  assert.equal(links('Go to https://example.com!')[0].text, 'https://example.com');
});

test('no other scheme ever becomes a link', () => {
  for (const hostile of [
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    ' javascript:alert(document.cookie)',
    'java\tscript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox(1)',
    'file:///etc/passwd',
    '//evil.example/path',
    'ftp://example.com',
    'mailto:a@example.com',
    '&#106;avascript:alert(1)',
    '<a href="javascript:alert(1)">x</a>',
  ]) {
    assert.deepEqual(links(hostile), [], hostile);
    assert.equal(
      linkParts(hostile)
        .map((p) => p.text)
        .join(''),
      hostile,
      'the text is kept whole',
    );
  }
});

test('a URL cannot carry markup or quotes out of its href', () => {
  const parts = linkParts('https://example.com/"><img src=x onerror=alert(1)>');
  assert.equal(links('https://example.com/"><img src=x onerror=alert(1)>').length, 1);
  assert.equal(parts[0].href, 'https://example.com/');
  assert.equal(parts.map((p) => p.text).join(''), 'https://example.com/"><img src=x onerror=alert(1)>');
  // A javascript: URL inside an http one is only its path.
  assert.equal(links('https://x.example/javascript:alert(1)')[0].href, 'https://x.example/javascript:alert(1)');
  // A URL that says http but is not one: no host.
  assert.equal(safeHref('http://'), null);
  assert.equal(safeHref('https:///nohost'), 'https://nohost/');
  assert.equal(safeHref(`https://example.com/${'a'.repeat(3000)}`), null, 'too long');
  assert.equal(safeHref(42), null);
});

test('several links and unicode text around them', () => {
  const parts = linkParts('ü https://a.example 🎉 http://b.example/ü');
  assert.deepEqual(
    parts.filter((p) => p.href).map((p) => p.href),
    ['https://a.example/', 'http://b.example/%C3%BC'],
  );
  assert.equal(parts.map((p) => p.text).join(''), 'ü https://a.example 🎉 http://b.example/ü');
});
