/**
 * The GPU pack (`bench/gpu/pack.ts`) runs from the pack alone: built here on the synthetic cohort,
 * copied away from the project and run with an empty environment, it trains SpaHGC and reports,
 * times our epoch and writes that epoch's graphs, which the authors' side reads as written.
 * (On a lent GPU the same pack runs with `--backend webgpu`; see docs/performance.md.)
 *
 * The authors' side itself (their released model over those graphs) runs here only where Debian's
 * python3 has torch, the reference harness's stand-ins for torch_geometric and timm are beside the
 * project (`../shared/anchor/shim`) and $SPAHGC_RELEASED names their code; elsewhere it is
 * ignored, saying which is missing. The torch_scatter stand-in is checked wherever torch is.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../lib/paths.ts";
import { PYTHON, pythonHas, tempDir } from "./helpers.ts";
import { exists } from "../lib/io/files.ts";
import { readPackedSlices } from "../bench/gpu/slices.ts";
import { epochGraphs } from "../bench/gpu/epoch_graphs.ts";
import { toGraphSlice } from "../lib/graph/hetero.ts";
import { SPAHGC_DEFAULT_PRESET, SPAHGC_PRESETS } from "../lib/model/spahgc_method.ts";

const RELEASED = Deno.env.get("SPAHGC_RELEASED");
const SHIM = join(PROJECT_ROOT, "..", "shared", "anchor", "shim");
const HAVE_TORCH = pythonHas("torch");
const HAVE_NUMPY = pythonHas("numpy");
const authorsMissing = [
  ...(HAVE_TORCH ? [] : ["python3-torch"]),
  ...(RELEASED ? [] : ["$SPAHGC_RELEASED"]),
  ...(exists(join(SHIM, "torch_geometric")) ? [] : ["../shared/anchor/shim"]),
];
if (authorsMissing.length) {
  console.warn(
    `the authors' side of the GPU pack is not run here: no ${authorsMissing.join(", ")}`,
  );
}

/** The pack in its own folder, moved away from the project; run.sh's arguments → its stdout. */
const away = tempDir();
const runPack = (args: string[], env: Record<string, string> = {}) => {
  const r = new Deno.Command("sh", {
    args: [join(away, "pack", "run.sh"), ...args],
    cwd: away,
    clearEnv: true,
    env: { PATH: "/usr/bin:/bin", HOME: away, TMPDIR: away, ...env },
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  assert.ok(r.success, `run.sh ${args.join(" ")}:\n${new TextDecoder().decode(r.stderr)}`);
  return JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").at(-1)!);
};

/** The pack of three synthetic slices, built once (on first use) and moved away; its manifest. */
let built: { totalMiB: number; slices: string[]; genes: number } | undefined;
function pack() {
  if (built) return built;
  const build = tempDir();
  const b = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(PROJECT_ROOT, "bench/gpu/pack.ts"),
      "--dataset",
      "synthetic",
      "--slices",
      "P1_S1,P2_S1,P3_S1",
      "--compress",
      "gzip",
      "--out",
      join(build, "pack"),
      ...(RELEASED ? ["--released", RELEASED] : []),
    ],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  assert.ok(b.success, new TextDecoder().decode(b.stderr));
  const manifest = JSON.parse(Deno.readTextFileSync(join(build, "pack", "manifest.json")));
  // Moved: nothing of the project is reachable from where it runs.
  Deno.renameSync(join(build, "pack"), join(away, "pack"));
  return (built = manifest);
}

Deno.test("the GPU pack is self-contained: built, moved away from the project, it trains and reports", () => {
  const manifest = pack();
  assert.ok(manifest.totalMiB < 64, `${manifest.totalMiB} MiB: over the device's 64 MiB`);
  assert.deepEqual(manifest.slices, ["P1_S1", "P2_S1", "P3_S1"]);
  const rep = runPack(["--backend", "cpu", "--epochs", "1", "--folds", "P2_S1"]);
  assert.equal(rep.backend, "cpu");
  assert.deepEqual(rep.folds.map((f: { test: string }) => f.test), ["P2_S1"]);
  assert.ok(Number.isFinite(rep.folds[0].pcc) && rep.secondsPerEpoch > 0, JSON.stringify(rep));
  assert.equal(rep.genes, manifest.genes);
});

Deno.test("the pack times our epoch over the bench's graphs and writes them as the authors' side reads them", () => {
  pack();
  const graphsDir = join(away, "graphs");
  const rep = runPack([
    "--mode",
    "epoch",
    "--backend",
    "cpu",
    "--epochs",
    "1",
    "--folds",
    "P1_S1",
    "--graphs-out",
    graphsDir,
  ]);
  assert.equal(rep.mode, "epoch");
  assert.equal(rep.test, "P1_S1");
  assert.deepEqual(rep.graphs.map((g: { target: string }) => g.target), ["P2_S1", "P3_S1"]);
  assert.ok(rep.secondsPerEpoch > 0 && rep.epochsTimed === 1, JSON.stringify(rep));
  // The same graphs, built here from the pack's slices, against what Python reads from the files.
  const slices = readPackedSlices(Deno.readFileSync(join(away, "pack", "slices.bin")));
  const built = epochGraphs(
    slices.map((s) => toGraphSlice(s.slice, s.x, s.y)),
    "P1_S1",
    SPAHGC_PRESETS[SPAHGC_DEFAULT_PRESET].graph,
  );
  if (!HAVE_NUMPY) {
    console.warn("python3-numpy missing: the Python reader of the graphs is not checked");
    return;
  }
  const r = new Deno.Command(PYTHON, {
    args: [join(PROJECT_ROOT, "bench/gpu/authors_epoch.py"), graphsDir, "--check-graphs"],
    env: { PYTHONDONTWRITEBYTECODE: "1" },
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
  const read = JSON.parse(new TextDecoder().decode(r.stdout)).graphs;
  const sum = (a: ArrayLike<number>) => Array.from(a).reduce((x, v) => x + v, 0);
  built.forEach(({ graph: g, y }, i) => {
    const p = read[i];
    assert.equal(p.target, g.target.slice);
    const nT = g.target.n, nR = g.reference.n, d = g.target.dim, G = g.reference.genes;
    assert.deepEqual(p.shapes.target_x, [nT, d]);
    assert.deepEqual(p.shapes.target_y, [nT, G]);
    assert.deepEqual(p.shapes.reference_x, [nR, d + G]);
    const close = (a: number, b: number, what: string) =>
      assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
    close(p.sums.target_x, sum(g.target.features), "target_x");
    close(p.sums.target_y, sum(y), "target_y");
    close(
      p.sums.reference_x,
      sum(g.reference.features) + sum(g.reference.expression),
      "reference_x",
    );
    // PyG's direction: a row's neighbours are the sources, the row's node the destination.
    for (const rel of ["ts", "cs", "rs"] as const) {
      const { index, degree } = g[rel];
      let edges = 0, src = 0, dst = 0;
      index.forEach((v, k) => {
        if (v < 0) return;
        edges++;
        src += v;
        dst += Math.floor(k / degree);
      });
      assert.deepEqual(p.shapes[rel], [2, edges], rel);
      assert.equal(p.edges[rel].sourceSum, src, `${rel} sources`);
      assert.equal(p.edges[rel].destinationSum, dst, `${rel} destinations`);
    }
  });
});

Deno.test({
  name: "the torch_scatter stand-in sums as a dense reference does (1-D index and broadcast index)",
  ignore: !HAVE_TORCH,
  fn() {
    const r = new Deno.Command(PYTHON, {
      args: [
        "-c",
        `
import sys, torch
sys.path.insert(0, sys.argv[1])
from torch_scatter import scatter_add
torch.manual_seed(0)
src = torch.randn(7, 3); index = torch.tensor([0, 2, 2, 4, 0, 1, 4])
dense = torch.zeros(5, 3)
for i, j in enumerate(index.tolist()): dense[j] += src[i]
a = scatter_add(src, index, dim=0, out=torch.zeros(5, 3))
b = scatter_add(src, index, dim=0, dim_size=5)
c = scatter_add(src, index.view(7, 1).expand(7, 3), dim=0)
print(max(float((x - dense).abs().max()) for x in (a, b, c)), tuple(c.shape))
`,
        join(PROJECT_ROOT, "bench/gpu/standin"),
      ],
      env: { PYTHONDONTWRITEBYTECODE: "1" },
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    assert.ok(r.success, new TextDecoder().decode(r.stderr));
    const [err, shape] = new TextDecoder().decode(r.stdout).trim().split(" ", 2);
    assert.ok(Number(err) < 1e-6, `stand-in differs from the dense sum by ${err}`);
    assert.equal(shape, "(5,");
  },
});

Deno.test({
  name: "the pack's authors' side trains the released model over our epoch's graphs",
  ignore: authorsMissing.length > 0,
  fn() {
    pack();
    // torch_geometric and timm from the harness's stand-ins, torch_scatter left out: the GPU
    // machine has PyG but not torch_scatter, so the driver's own stand-in must carry CNDA and CNAP.
    const path = tempDir();
    for (const m of ["torch_geometric", "timm"]) Deno.symlinkSync(join(SHIM, m), join(path, m));
    const rep = runPack(["authors", "--epochs", "1", "--device", "cpu", "--threads", "1"], {
      PYTHONPATH: path,
      PYTHONDONTWRITEBYTECODE: "1",
    });
    assert.equal(rep.measurement, "authors-train-epoch");
    assert.equal(rep.device, "cpu");
    assert.match(rep.torch_scatter, /^stand-in/);
    assert.deepEqual(rep.graphs.map((g: { target: string }) => g.target), ["P2_S1", "P3_S1"]);
    assert.ok(rep.secondsPerEpoch > 0, JSON.stringify(rep));
    assert.ok(rep.lastLosses.every(Number.isFinite), JSON.stringify(rep.lastLosses));
  },
});

Deno.test("bench/gpu/device.sh runs every step from the pack and keeps going past a failed one", () => {
  pack();
  const out = tempDir(), path = tempDir();
  for (const m of ["torch_geometric", "timm"]) {
    if (exists(join(SHIM, m))) Deno.symlinkSync(join(SHIM, m), join(path, m));
  }
  const r = new Deno.Command("sh", {
    args: [join(PROJECT_ROOT, "bench/gpu/device.sh")],
    cwd: away,
    clearEnv: true,
    env: {
      PATH: "/usr/bin:/bin",
      HOME: away,
      TMPDIR: away,
      PACK: join(away, "pack"),
      OUT: out,
      BACKEND: "cpu",
      TORCH_DEVICE: "cpu",
      EPOCHS: "1",
      FOLD_EPOCHS: "1",
      FOLDS: "P2_S1",
      PYTHONPATH: path,
      PYTHONDONTWRITEBYTECODE: "1",
    },
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const said = new TextDecoder().decode(r.stdout);
  assert.ok(r.success, said + new TextDecoder().decode(r.stderr));
  const read = (name: string) => JSON.parse(Deno.readTextFileSync(join(out, `${name}.json`)));
  assert.equal(read("ours_epoch").mode, "epoch");
  assert.deepEqual(read("folds").folds.map((f: { test: string }) => f.test), ["P2_S1"]);
  if (authorsMissing.length) assert.match(said, /authors_epoch: failed/);
  else assert.equal(read("authors_epoch").measurement, "authors-train-epoch");
});
