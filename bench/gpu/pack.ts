/**
 * `deno task gpu-pack`: a self-contained GPU benchmark for a machine that has no Node, no npm, no
 * network and none of our data — the `device` tool's, which takes the working tree plus at most
 * 64 MiB of carried paths. The pack (default `.gpu_pack/`, git-ignored) holds:
 *   - `deno.xz`: this Deno binary, xz-compressed (96 MB → about a third);
 *   - `bundle/run.js`: `bench/gpu/run.ts` and everything it imports (the model, TF.js and its
 *     WebGPU backend) bundled into one file by `deno bundle`;
 *   - `slices.bin`: the prepared slices (features, targets, coordinates; `bench/gpu/slices.ts`);
 *   - `run.sh`: unpacks Deno to $TMPDIR once and runs the bundle on the slices;
 *   - with `--released DIR` (default $SPAHGC_RELEASED: a clone of wenwenmin/SpaHGC, or a folder
 *     of its files): the authors' model files, unmodified, in `released/`, with
 *     `authors_epoch.py` and its torch_scatter stand-in, so `run.sh authors` times their model
 *     over the same graphs as `run.sh --mode epoch` times ours (PyTorch and PyG are on the GPU
 *     machine; the released files never enter the project's history, only this ignored folder);
 *   - `manifest.json`: how it was made and the sizes.
 * Run there: `sh .gpu_pack/run.sh --backend webgpu --epochs 200` (carry `.gpu_pack`).
 *
 * Options: --dataset NAME (her2st), --slices A,B,… (the dataset's study slices), --out DIR,
 * --compress xz|gzip (xz; gzip is faster to build and larger), --released DIR.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../lib/paths.ts";
import { WarningLog } from "../../lib/errors.ts";
import { datasetSpec, loadDataset } from "../../lib/datasets/registry.ts";
import { DEFAULT_GENE_PARAMS, selectGenes } from "../../lib/preprocess/hvg.ts";
import { expressionTarget } from "../../lib/preprocess/normalize.ts";
import { builtinExtractor, sliceFeatures } from "../../lib/features/extractors.ts";
import type { PreparedSlice } from "../../lib/model/method.ts";
import { softwareProvenance } from "../../lib/provenance/manifest.ts";
import { packSlices } from "./slices.ts";
import { exists } from "../../lib/io/files.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    dataset: { type: "string", default: "her2st" },
    slices: { type: "string" },
    out: { type: "string", default: join(PROJECT_ROOT, ".gpu_pack") },
    compress: { type: "string", default: "xz" },
    released: { type: "string", default: Deno.env.get("SPAHGC_RELEASED") },
  },
});
const out = values.out;
Deno.mkdirSync(join(out, "bundle"), { recursive: true });

// 1. The slices, prepared as the library prepares them (genes by the dataset's recipe).
const spec = datasetSpec(values.dataset);
const ds = await loadDataset(values.dataset, { log: new WarningLog(false) });
const names = values.slices?.split(",") ?? spec?.cvSlices ??
  ds.slices.filter((s) => s.image).map((s) => s.name);
const genes = selectGenes(ds.slices, {
  ...DEFAULT_GENE_PARAMS,
  recipe: spec?.genes ?? "intersection",
}).genes;
const ex = builtinExtractor({ workers: 1 });
const prepared: PreparedSlice[] = [];
try {
  for (const name of names) {
    const s = ds.slices.find((x) => x.name === name);
    if (!s) throw new Error(`no slice ${name} in ${values.dataset}`);
    const col = new Map(s.genes.map((g, j) => [g, j]));
    const e = await sliceFeatures(s, ex);
    prepared.push({
      name,
      patient: s.patient,
      n: s.spots.length,
      x: e.data,
      y: expressionTarget(s.counts, genes.map((g) => col.get(g)!)),
      slice: s,
    });
  }
} finally {
  await ex.close();
}
Deno.writeFileSync(join(out, "slices.bin"), packSlices(prepared, genes));

// 2. The benchmark and everything it imports, as one file (usearch, a native addon loaded only
// for banks over ~100k spots, stays out).
const run = (cmd: string, args: string[], stdout?: string) => {
  const r = new Deno.Command(cmd, { args, stdout: stdout ? "piped" : "inherit", stderr: "piped" })
    .outputSync();
  if (!r.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${new TextDecoder().decode(r.stderr)}`);
  }
  if (stdout) Deno.writeFileSync(stdout, r.stdout);
};
run(Deno.execPath(), [
  "bundle",
  "--platform",
  "deno",
  "--packages",
  "bundle",
  "--external",
  "usearch",
  "--outdir",
  join(out, "bundle"),
  join(PROJECT_ROOT, "bench/gpu/run.ts"),
]);

// 2b. The authors' side, when their code is at hand: their five model files as they are, and our
// driver (bench/gpu/authors_epoch.py) with the stand-in it falls back on.
const RELEASED_FILES = ["model.py", "CNDA.py", "CNAP.py", "heteroconv.py", "utils.py"];
for (const old of ["released", "standin", "authors_epoch.py"]) {
  try {
    Deno.removeSync(join(out, old), { recursive: true });
  } catch { /* not there: a first build */ }
}
let released: { source: string; commit: string | null } | null = null;
if (values.released) {
  const src = values.released;
  const isGit = !exists(join(src, "model.py"));
  const git = (args: string[]) =>
    new Deno.Command("git", { args: ["-C", src, ...args], stdout: "piped", stderr: "piped" })
      .outputSync();
  Deno.mkdirSync(join(out, "released"), { recursive: true });
  for (const f of RELEASED_FILES) {
    if (!isGit) Deno.copyFileSync(join(src, f), join(out, "released", f));
    else {
      // A bare mirror or a clone: the file as committed at HEAD.
      const r = git(["show", `HEAD:${f}`]);
      if (!r.success) {
        throw new Error(`--released ${src}: no ${f} at HEAD (a clone of wenwenmin/SpaHGC?)`);
      }
      Deno.writeFileSync(join(out, "released", f), r.stdout);
    }
  }
  const head = git(["rev-parse", "HEAD"]);
  released = {
    source: src,
    commit: head.success ? new TextDecoder().decode(head.stdout).trim() : null,
  };
  Deno.copyFileSync(
    join(PROJECT_ROOT, "bench/gpu/authors_epoch.py"),
    join(out, "authors_epoch.py"),
  );
  Deno.mkdirSync(join(out, "standin", "torch_scatter"), { recursive: true });
  Deno.copyFileSync(
    join(PROJECT_ROOT, "bench/gpu/standin/torch_scatter/__init__.py"),
    join(out, "standin", "torch_scatter", "__init__.py"),
  );
}

// 3. Deno itself, compressed.
for (const f of ["deno.xz", "deno.gz"]) {
  try {
    Deno.removeSync(join(out, f));
  } catch { /* not there */ }
}
const binary = join(out, values.compress === "gzip" ? "deno.gz" : "deno.xz");
if (values.compress === "gzip") run("gzip", ["-1", "-c", Deno.execPath()], binary);
else run("xz", ["-6", "-T2", "-c", Deno.execPath()], binary);

// 4. The launcher: nothing but the pack, sh and xz (or Python's lzma) on the other side.
Deno.writeTextFileSync(
  join(out, "run.sh"),
  `#!/bin/sh
# The SpaHGC GPU benchmark, from this folder alone (bench/gpu/pack.ts made it).
# Usage: sh run.sh [--backend webgpu|cpu] [--epochs 200] [--folds B4,C2] [--selection validation|fixed]
#        sh run.sh --mode epoch [--backend webgpu] [--epochs 10]   (our epoch, the CPU bench's graphs)
#        sh run.sh authors [--epochs 10] [--device cuda]           (the authors' model, same graphs)
#          ($PYTHON: the interpreter with torch and torch_geometric, default python3)
set -e
here=$(cd "$(dirname "$0")" && pwd)
tmp=\${TMPDIR:-/tmp}
bin="$tmp/spahgc-pack-deno-${Deno.version.deno}"
if [ ! -x "$bin" ]; then
  if [ -f "$here/deno.xz" ]; then
    xz -dc "$here/deno.xz" > "$bin.part" 2>/dev/null ||
      python3 -c 'import lzma, sys; sys.stdout.buffer.write(lzma.open(sys.argv[1]).read())' "$here/deno.xz" > "$bin.part"
  else
    gzip -dc "$here/deno.gz" > "$bin.part"
  fi
  chmod +x "$bin.part" && mv "$bin.part" "$bin"
fi
export DENO_NO_UPDATE_CHECK=1 DENO_DIR="$tmp/spahgc-pack-deno-dir" NO_COLOR=1
if [ "$1" = authors ]; then
  # The authors' model over the graphs our epoch uses (sh run.sh authors [--epochs 10]
  # [--device cuda]): the graphs are written by our bundle, then timed by their code.
  shift
  if [ ! -f "$here/authors_epoch.py" ]; then
    echo "run.sh authors: this pack has no authors' side (build it with --released DIR)" >&2
    exit 2
  fi
  graphs="$tmp/spahgc-pack-graphs"
  "$bin" run -A --no-config "$here/bundle/run.js" --data "$here/slices.bin" --mode epoch \
    --epochs 0 --graphs-out "$graphs" > /dev/null
  exec "\${PYTHON:-python3}" "$here/authors_epoch.py" "$graphs" "$@"
fi
exec "$bin" run -A --no-config "$here/bundle/run.js" --data "$here/slices.bin" "$@"
`,
);

// 5. What it is.
const size = (f: string) => Deno.statSync(join(out, f)).size;
const files = [
  "run.sh",
  "slices.bin",
  "bundle/run.js",
  binary.replace(/^.*\//, ""),
  ...(released
    ? [
      ...RELEASED_FILES.map((f) => `released/${f}`),
      "authors_epoch.py",
      "standin/torch_scatter/__init__.py",
    ]
    : []),
];
const manifest = {
  name: "gpu_pack",
  createdAt: new Date().toISOString(),
  dataset: values.dataset,
  slices: names,
  genes: genes.length,
  deno: Deno.version.deno,
  released,
  ...softwareProvenance(),
  bytes: Object.fromEntries(files.map((f) => [f, size(f)])),
  totalMiB: files.reduce((a, f) => a + size(f), 0) / 2 ** 20,
};
Deno.writeTextFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(JSON.stringify(manifest.bytes), `${manifest.totalMiB.toFixed(1)} MiB in ${out}`);
