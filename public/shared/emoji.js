// A reaction is exactly one emoji as Unicode's recommended (RGI) list has it, skin tones and ZWJ
// sequences included. The server runs this very check (src/validate/emoji.rs imports it), so the
// client and the server cannot disagree; tests/vectors/emoji.json holds the cases both must pass.

const ONE_EMOJI = /^\p{RGI_Emoji}$/v;

/** Whether `s` is exactly one emoji. */
export function isEmoji(s) {
  return typeof s === 'string' && s.length > 0 && s.length <= 64 && ONE_EMOJI.test(s);
}
