// A batch's ASCII bytes as a one-byte JS string, for `frame_string` in sockets.rs.
//
// `bytes` is a view over the Wasm memory (no copy). `String.fromCharCode` takes its codes as
// arguments, and the runtime's stack holds only so many: spreading a batch near the 128 KiB cap
// threw "Maximum call stack size exceeded" in workerd. So the codes go in chunks, and
// the chunks are joined; a joined one-byte string stays one-byte, and `send` flattens it once.
const CHUNK = 8192;

export function asciiString(bytes) {
  if (bytes.length <= CHUNK) return String.fromCharCode.apply(null, bytes);
  let out = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK));
  }
  return out;
}
