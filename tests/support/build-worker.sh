#!/usr/bin/env bash
# Builds the Worker into build/: worker-build (cargo, wasm-bindgen, esbuild), then one wasm-opt
# pass that optimizes and drops the Wasm names section. wasm-opt runs here rather than inside
# worker-build because worker-build always asks it to keep the names section (~100 KB, ~28 KB
# gzip), and rustc's `strip = true` strips before wasm-bindgen, which then warns that it cannot
# read the target features. Cargo.toml turns worker-build's own wasm-opt run off.
#
# `make build` runs it, and so does wrangler, as the [build] command in wrangler.toml. Builds run
# one at a time and are skipped when no input changed since the last good build began.
# - SKIP_WORKER_BUILD=1 (the tests, which build once first): do nothing.
# - CHATTERLY_DEV=1 (`make dev`): wrangler runs it twice at start, which then costs nothing, and
#   again on every change under [build] watch_dir (a burst of saves makes one or two builds).
#   wasm-opt is skipped: seconds matter more than size locally. After a failed build the errors
#   are in wrangler's output and the previous build keeps being served.
set -uo pipefail
[ -n "${SKIP_WORKER_BUILD:-}" ] && exit 0
cd "$(dirname "$0")/../.." || exit 1

# The project's own tools, found from here rather than from PATH: a wrangler that is not the
# project's (a global `wrangler deploy`, `wrangler dev` run directly) runs this script with a PATH
# that has neither node_modules/.bin nor ~/.cargo/bin, and wasm-opt was then "command not found".
root=$PWD
cargo_bin=${CARGO_HOME:-$HOME/.cargo}/bin
export PATH="$root/node_modules/.bin:$cargo_bin:$PATH"
export WASM_OPT_BIN=${WASM_OPT_BIN:-$root/node_modules/.bin/wasm-opt}
[ -z "${WASM_BINDGEN_BIN:-}" ] && [ -x "$cargo_bin/wasm-bindgen" ] && export WASM_BINDGEN_BIN=$cargo_bin/wasm-bindgen
wasm_opt=$WASM_OPT_BIN

# What the Worker is built from (names.js is bundled into the Worker, see src/validate/names.rs).
inputs=(src Cargo.toml Cargo.lock public/shared tests/support/build-worker.sh)
# The features worker-build enables for its own wasm-opt run: the rustc defaults, plus exception
# handling for wasm-bindgen's catch wrappers; nothing newer than workerd reads.
features=(mutable-globals sign-ext nontrapping-float-to-int bulk-memory multivalue reference-types
  exception-handling)

# Outside build/, which worker-build replaces. A stamp is the start time of the last build that
# succeeded: `release` (optimized) or `dev` (not optimized, good enough for make dev only).
state=target/build-worker
mkdir -p "$state"
exec 9>"$state/lock"
flock 9
fresh() {
  [ -f "$state/$1" ] && [ -f build/worker/shim.mjs ] && [ -f build/index_bg.wasm ] &&
    [ -z "$(find "${inputs[@]}" -newer "$state/$1" -print -quit)" ]
}
if fresh release || { [ -n "${CHATTERLY_DEV:-}" ] && fresh dev; }; then
  echo "build-worker: build/ is up to date"
  exit 0
fi

touch "$state/started"
started=$(date +%s%N)
# In dev, worker-build's own backtrace (RUST_BACKTRACE) would bury the compiler's errors.
dev_env=()
[ -n "${CHATTERLY_DEV:-}" ] && dev_env=(RUST_BACKTRACE=0)
if ! env "${dev_env[@]}" worker-build --release; then
  [ -z "${CHATTERLY_DEV:-}" ] && exit 1
  # A failing [build] command makes wrangler 4.86 hold every request until a later build succeeds;
  # succeeding here makes it reload the previous build, which worker-build left in place.
  echo "build-worker: the build failed (errors above); still serving the previous build" >&2
  exit 0
fi
if [ -n "${CHATTERLY_DEV:-}" ]; then
  rm -f "$state/release"
  mv "$state/started" "$state/dev"
else
  "$wasm_opt" -O "${features[@]/#/--enable-}" --strip-debug build/index_bg.wasm -o build/index_bg.wasm ||
    exit 1
  mv "$state/started" "$state/release"
fi
echo "build-worker: built in $((($(date +%s%N) - started) / 1000000)) ms"
