#!/bin/sh
# Installs what the project needs, idempotently: npm packages (the pinned Deno runtime, h5wasm,
# nodejs-polars with its native build for this platform,
# sharp) from package-lock.json; Debian's Jupyter nbconvert and kernel client, and python3
# anndata/scipy (used by the tests only, for interoperability checks); the Deno kernelspec.
# Each step is skipped when already satisfied. Set SPAHGC_SKIP_APT=1 to skip the Debian step
# (notebooks then run through the `deno run` engine, and Python interop tests are skipped).
set -eu
cd "$(dirname "$0")/.."

# 1. npm packages, when node_modules is missing or older than the lockfile.
if [ ! -x node_modules/deno/bin.cjs ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install` rather than `npm ci`: the lockfile pins every version, but the deno package
  # lists other platforms' binaries as optional dependencies, and `npm ci` refuses a lockfile
  # that lacks any of them (registry mirrors often carry only some platforms).
  # .npmrc sets ignore-scripts: onnxruntime-node and usearch ship prebuilt binaries, and the
  # deno package places its binary on first use (below). onnxruntime-node's install script would
  # only fetch CUDA binaries from outside the npm registry; users with CUDA 12 who want them run
  # `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install`.
  echo "bootstrap: npm install (from package-lock.json)" >&2
  npm install --no-audit --no-fund --loglevel=error >&2
fi
# nodejs-polars' native part for this platform: npm on Node 20 skips it silently as an optional
# dependency (see scripts/polars_platform.cjs), so it is installed by name, without touching the
# lockfile (which pins its version and checksum for every platform).
polars_native="$(node scripts/polars_platform.cjs)"
if [ -n "$polars_native" ]; then
  echo "bootstrap: npm install $polars_native (nodejs-polars' native build for this platform)" >&2
  npm install --no-save --no-audit --no-fund --loglevel=error "$polars_native" >&2
fi
# The deno package places its binary on first use if its install script was not run.
node node_modules/deno/bin.cjs --version >/dev/null
DENO="$(pwd)/node_modules/deno/deno"

# 2. Debian packages for headless notebook execution, interop tests and PNG/SVG figure export
#    (plotly.js renders in Debian's headless Chromium; the fonts give figures real glyphs), and
#    OpenBLAS, which the `wasm-blas` training backend calls for matrix products (optional: without
#    it `auto` falls back to plain wasm, 3–4× slower per epoch), and a C compiler, with which that
#    backend builds its other kernels on first use (lib/model/native.ts; optional: without it the
#    same kernels run as TypeScript, ~1.3× slower per epoch).
need_apt=""
command -v jupyter-nbconvert >/dev/null 2>&1 || need_apt="yes"
/usr/bin/python3 -c "import anndata, scipy, pandas, onnx, sklearn" >/dev/null 2>&1 || need_apt="yes"
[ -x /usr/bin/chromium ] || need_apt="yes"
ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so\.0' || need_apt="yes"
command -v cc >/dev/null 2>&1 || need_apt="yes"
if [ -n "$need_apt" ] && [ "${SPAHGC_SKIP_APT:-0}" != "1" ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" = "0" ] || SUDO="sudo"
    echo "bootstrap: apt-get install jupyter-nbconvert python3-ipykernel python3-anndata python3-scipy python3-onnx python3-sklearn chromium fonts-liberation libopenblas0-pthread gcc libc6-dev" >&2
    $SUDO apt-get update -qq >&2 || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
      jupyter-nbconvert jupyter-client python3-ipykernel python3-anndata python3-scipy python3-pandas python3-h5py python3-onnx python3-sklearn \
      chromium fonts-liberation libopenblas0-pthread gcc libc6-dev >&2
  else
    echo "bootstrap: no apt-get; notebooks will run with the deno engine, Python interop tests are skipped" >&2
  fi
fi

# 3. The Deno Jupyter kernelspec.
if command -v jupyter >/dev/null 2>&1 && ! jupyter kernelspec list 2>/dev/null | grep -q '^ *deno '; then
  echo "bootstrap: deno jupyter --install" >&2
  "$DENO" jupyter --install >/dev/null 2>&1
fi
