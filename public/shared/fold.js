// How the search index compares words, for the Worker's snippets (src/search/snippet.rs): lower
// case, canonical decomposition, combining diacritical marks removed (`cafe` marks `Café`). One
// call into the engine's Unicode tables instead of shipping them in the Wasm upload.

const MARKS = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/gu;

/** A word as the index's `unicode61 remove_diacritics 2` folds it. */
export function searchFold(word) {
  return word.toLowerCase().normalize('NFD').replace(MARKS, '');
}
