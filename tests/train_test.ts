/** Metrics, folds, the ridge baseline and the resumable cross-validation runner. */
import assert from "node:assert/strict";
import { CsrMatrix } from "../lib/data/sparse.ts";
import { codeVersion, fileFingerprint } from "../lib/provenance/identity.ts";
import { join } from "node:path";
import { generateSynthetic, Rng } from "../lib/mod.ts";
import { sliceMetrics } from "../lib/eval/metrics.ts";
import { makeFolds } from "../lib/train/cv.ts";
import { EpochSelector, holdOut } from "../lib/model/selection.ts";
import { fitRidge } from "../lib/model/baselines/ridge.ts";
import { ridgeMethod } from "../lib/model/baselines/ridge.ts";
import { crossValidate } from "../lib/train/experiment.ts";
import type { Method } from "../lib/model/method.ts";
import { builtinExtractor } from "../lib/features/extractors.ts";
import { exists } from "../lib/io/files.ts";
import { PROJECT_ROOT } from "../lib/paths.ts";
import { cli, cliJson, HAVE_ANNDATA, HER2ST_DIR, python, tempDir, throwsWith } from "./helpers.ts";

Deno.test("slice PCC, RMSE and excluded constant genes match numpy/scipy", () => {
  const rng = new Rng(5);
  const n = 40, G = 6;
  const truth = Float32Array.from({ length: n * G }, () => rng.normal());
  const pred = Float32Array.from(truth, (v, k) => (k % G === 2 ? 1.5 : v + rng.normal()));
  for (let i = 0; i < n; i++) truth[i * G + 4] = 3; // constant measured gene
  const m = sliceMetrics(pred, truth, n, G);
  assert.equal(m.genesExcluded, 2);
  assert.ok(Number.isNaN(m.perGene[2]) && Number.isNaN(m.perGene[4]));
  if (!HAVE_ANNDATA) return;
  const ref = JSON.parse(python(
    `
import json, sys, numpy as np
from scipy.stats import pearsonr
p = np.array(json.loads(sys.argv[1])).reshape(-1, 6); t = np.array(json.loads(sys.argv[2])).reshape(-1, 6)
r = [pearsonr(p[:, g], t[:, g])[0] for g in range(6) if g not in (2, 4)]
print(json.dumps({"pcc": float(np.mean(r)), "rmse": float(np.sqrt(np.mean((p - t) ** 2))), "r": [float(v) for v in r]}))`,
    JSON.stringify(Array.from(pred)),
    JSON.stringify(Array.from(truth)),
  ));
  assert.ok(Math.abs(m.pcc - ref.pcc) < 1e-6, `${m.pcc} vs ${ref.pcc}`);
  assert.ok(Math.abs(m.rmse - ref.rmse) < 1e-6);
  [0, 1, 3, 5].forEach((g, k) => assert.ok(Math.abs(m.perGene[g] - ref.r[k]) < 1e-6));
});

Deno.test("leave-one-slice-out and leave-one-patient-out folds never put a test slice in training", () => {
  const s = [{ name: "A1", patient: "A" }, { name: "A2", patient: "A" }, {
    name: "B1",
    patient: "B",
  }];
  assert.deepEqual(makeFolds(s, "slice").map((f) => [f.name, f.train.join()]), [["A1", "A2,B1"], [
    "A2",
    "A1,B1",
  ], ["B1", "A1,A2"]]);
  assert.deepEqual(makeFolds(s, "patient"), [{ name: "A", test: ["A1", "A2"], train: ["B1"] }, {
    name: "B",
    test: ["B1"],
    train: ["A1", "A2"],
  }]);
  assert.throws(() => makeFolds([s[0], s[1]], "patient"), /at least 2 patients/);
});

Deno.test("the selection rule: validation holds out the last training slice by name, never a test slice", () => {
  const [a, b, c] = [{ name: "C3" }, { name: "B4" }, { name: "C6" }];
  const v = holdOut([a, b, c], "validation");
  assert.equal(v.validation, c);
  assert.deepEqual(v.fit, [a, b]);
  assert.equal(v.testSet, false);
  // Two training slices: nothing to spare, the last epoch is kept.
  assert.deepEqual(holdOut([a, b], "validation"), { fit: [a, b], testSet: false });
  assert.deepEqual(holdOut([a, b, c], "fixed"), { fit: [a, b, c], testSet: false });
  const t = { name: "T" };
  assert.deepEqual(holdOut([a, b, c], "test-set", t), {
    fit: [a, b, c],
    validation: t,
    testSet: true,
  });
  assert.throws(() => holdOut([a, b, c], "test-set"), /testSetSelection mode/);

  const sel = new EpochSelector(5);
  assert.deepEqual([0.2, 0.3, 0.3, 0.1].map((p, i) => sel.offer(i + 1, p)), [
    true,
    true,
    false,
    false,
  ]);
  assert.deepEqual(sel.report(v), {
    epochs: 5,
    bestEpoch: 2, // a tie keeps the earlier epoch
    validationSlice: "C6",
    testSetSelection: false,
    validationPcc: 0.3,
  });
  assert.equal(new EpochSelector(5).report(holdOut([a, b], "validation")).bestEpoch, 5);
  assert.equal(sel.offer(6, NaN), false); // a NaN PCC (constant prediction) never wins
});

Deno.test("ridge recovers a linear map and picks λ from training slices only", () => {
  const rng = new Rng(9);
  const d = 8, G = 3;
  const W = Array.from({ length: d * G }, () => rng.normal());
  const make = (name: string, n: number, noise: number) => {
    const x = Float32Array.from({ length: n * d }, () => rng.normal());
    const y = new Float32Array(n * G);
    for (let i = 0; i < n; i++) {
      for (let g = 0; g < G; g++) {
        let v = 2;
        for (let j = 0; j < d; j++) v += x[i * d + j] * W[j * G + g];
        y[i * G + g] = v + noise * rng.normal();
      }
    }
    return { name, n, x, y };
  };
  const train = [make("a", 150, 0.1), make("b", 150, 0.1), make("c", 150, 0.1)];
  const test = make("t", 100, 0);
  const { model, innerPcc } = fitRidge(train, d, G);
  assert.deepEqual(Object.keys(innerPcc).length, 6);
  const m = sliceMetrics(model.predict(test.x, test.n), test.y, test.n, G);
  assert.ok(m.pcc > 0.99 && m.rmse < 0.1, `pcc ${m.pcc} rmse ${m.rmse}`);
  // One training slice: λ still chosen (5-fold over its spots), never from the test slice.
  assert.ok(Object.keys(fitRidge([train[0]], d, G).innerPcc).length === 6);
});

/** Ridge wrapped to record which slices each fit saw. */
function spyingRidge(seen: string[][]): Method {
  const inner = ridgeMethod();
  return {
    ...inner,
    fit: (train, d, G) => (seen.push(train.map((t) => t.name)), inner.fit(train, d, G)),
  };
}

Deno.test("cross-validation on the synthetic cohort learns image → expression, never trains on the test slice, and resumes", async () => {
  const ds = generateSynthetic();
  const out = join(tempDir(), "run");
  const seen: string[][] = [];
  const ex = builtinExtractor({ workers: 1 });
  const opts = {
    dataset: ds,
    extractor: ex,
    geneParams: {
      recipe: "intersection" as const,
      flavor: "seurat" as const,
      nTop: 1000,
      targetSum: 1e6,
    },
    out,
    cacheDir: join(tempDir(), "cache"),
    progress: () => {},
  };
  try {
    const r = await crossValidate({ ...opts, method: spyingRidge(seen) });
    assert.equal(r.folds.length, 6);
    r.folds.forEach((f, i) =>
      assert.ok(!seen[i].includes(f.test), `fold ${f.test} trained on itself`)
    );
    assert.ok(r.mean.pcc > 0.15, `synthetic ridge PCC ${r.mean.pcc}`);
    for (const f of r.folds) {
      assert.ok(Deno.statSync(join(out, `${f.test}.predictions.h5ad`)).size > 0);
    }
    // Rerun: nothing refitted. Remove one result: only that fold is redone.
    seen.length = 0;
    Deno.removeSync(join(out, "P2_S1.metrics.json"));
    const again = await crossValidate({ ...opts, method: spyingRidge(seen) });
    assert.equal(seen.length, 1);
    assert.deepEqual(again.folds.map((f) => f.pcc), r.folds.map((f) => f.pcc));
    await throwsWith(
      () => crossValidate({ ...opts, method: spyingRidge(seen), split: "patient" }),
      'split: "slice" → "patient"',
    );
    // Same settings, changed inputs: one slice's counts differ → refused, naming that slice.
    const changed = {
      ...ds,
      slices: ds.slices.map((s, i) =>
        i === 2
          ? {
            ...s,
            counts: new CsrMatrix(
              s.counts.nRows,
              s.counts.nCols,
              s.counts.indptr,
              s.counts.indices,
              s.counts.data.map((v, k) => (k === 0 ? v + 1 : v)),
            ),
          }
          : s
      ),
    };
    seen.length = 0;
    await throwsWith(
      () => crossValidate({ ...opts, dataset: changed, method: spyingRidge(seen) }),
      `inputs.${ds.slices[2].name}:`,
    );
    assert.equal(seen.length, 0, "nothing was fitted for a refused run");
    // A folder written by other code (or before identities held a code version) is refused too.
    const cfgPath = join(out, "config.json");
    const cfg = JSON.parse(Deno.readTextFileSync(cfgPath));
    Deno.writeTextFileSync(cfgPath, JSON.stringify({ ...cfg, hash: "0ld", code: "older-code" }));
    await throwsWith(
      () => crossValidate({ ...opts, method: spyingRidge(seen) }),
      `code: "older-code" → "${codeVersion()}"`,
    );
  } finally {
    ex.close();
  }
});

Deno.test({
  name: "CLI: hvg her2st --json gives the histogene recipe's 785 genes with its parameters",
  ignore: !HER2ST_DIR,
  fn() {
    const out = cliJson("hvg", "her2st", "--json");
    assert.equal(out.recipe, "histogene");
    assert.equal(out.genes.length, 785);
    assert.equal(out.params.referenceSlice, "A1");
    assert.equal(out.params.minSpots, 1000);
    const bad = cli("hvg", "her2st", "--recipe", "intersection");
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /empty; use --recipe batch-ranked/);
    assert.equal(cli("hvg", "her2st", "--recipe", "nope").code, 2);
  },
});

Deno.test("CLI: train --json has the shared report shape", () => {
  const out = cliJson(
    "train",
    "synthetic",
    "--method",
    "ridge",
    "--folds",
    "P1_S1,P3_S2",
    "--json",
    "--cache",
    "none",
  );
  for (const k of ["method", "split", "backend", "device", "folds", "mean"]) assert.ok(k in out, k);
  assert.equal(out.method, "ridge");
  assert.deepEqual(out.folds.map((f: { test: string }) => f.test), ["P1_S1", "P3_S2"]);
  for (const k of ["test", "pcc", "rmse", "genesExcluded", "seconds"]) {
    assert.ok(k in out.folds[0], k);
  }
  assert.ok(out.mean.pcc > 0.1);
});

Deno.test("CLI: features --json reports one embedding per spot with the encoder's dimension", () => {
  const out = cliJson(
    "features",
    "synthetic",
    "--slices",
    "P1_S1,P2_S2",
    "--cache",
    "none",
    "--json",
  );
  assert.equal(out.encoder, "builtin-v1");
  assert.deepEqual(out.slices.map((s: { slice: string; dim: number }) => [s.slice, s.dim]), [[
    "P1_S1",
    276,
  ], ["P2_S2", 276]]);
  assert.equal(cli("features", "synthetic", "--encoder", "weird").code, 1);
});

Deno.test("CLI: train --method spahgc reports the backend and device it used, and resumes from --out", () => {
  const out = join(tempDir(), "run");
  const args = [
    "train",
    "synthetic",
    "--method",
    "spahgc",
    "--epochs",
    "2",
    "--folds",
    "P2_S1",
    "--backend",
    "wasm",
    "--out",
    out,
    "--json",
  ];
  const r = cli(...args);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.method, "spahgc");
  assert.equal(rep.backend, "wasm");
  assert.match(rep.device, /wasm/);
  assert.equal(rep.folds[0].selection.epochs, 2);
  assert.ok(rep.folds[0].pcc > 0, `PCC ${rep.folds[0].pcc}`);
  assert.match(r.stderr, /epoch 2\/2/);
  const again = cli(...args);
  assert.match(again.stderr, /already done, skipped/);
  assert.deepEqual(JSON.parse(again.stdout).folds, rep.folds);
  assert.equal(cli("train", "synthetic", "--ablation", "no-xyz").code, 2);
  // A finished fold's checkpoints are gone; what wrote the folder is recorded.
  assert.equal(exists(join(out, "checkpoints")), false);
  const cfg = JSON.parse(Deno.readTextFileSync(join(out, "config.json")));
  assert.equal(cfg.provenance.software.spahgc, "0.1.0");
  assert.ok("commit" in cfg.provenance.git && "dirty" in cfg.provenance.git);
  assert.match(cfg.code, /^[0-9a-f]{12}$/);
  assert.ok(Object.keys(cfg.inputs).length >= 2);
});

Deno.test("CLI: train without --out keeps its run in a folder named by its identity, says where, and resumes it", () => {
  const runs = tempDir();
  const args = ["train", "synthetic", "--method", "spahgc", "--epochs", "1", "--folds", "P2_S1"];
  const run = (...extra: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(PROJECT_ROOT, "lib/cli/main.ts"), ...args, ...extra],
      env: { NO_COLOR: "1", SPAHGC_RUNS_DIR: runs },
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
  const first = run("--keep-checkpoints");
  const err = new TextDecoder().decode(first.stderr);
  assert.ok(first.success, err);
  const dir = err.match(/run folder: (\S+)/)?.[1];
  assert.ok(dir?.startsWith(join(runs, "spahgc-")), err);
  assert.ok(exists(join(dir!, "P2_S1.metrics.json")));
  assert.ok(exists(join(dir!, "checkpoints")), "--keep-checkpoints keeps them");
  const second = new TextDecoder().decode(run().stderr);
  assert.ok(second.includes(`run folder: ${dir}`), second);
  assert.match(second, /already done, skipped/);
  // Another setting, another folder.
  const other = new TextDecoder().decode(run("--seed", "1").stderr).match(/run folder: (\S+)/)?.[1];
  assert.ok(other && other !== dir);
});

Deno.test("CLI: graph --json prints node, edge and degree statistics, never with the target in its bank", () => {
  // Q-nearest TS edges (the paper's): exactly Q = 5 per target.
  const g = cliJson("graph", "synthetic", "--target", "P2_S1", "--K", "4", "--ts", "knn", "--json");
  assert.equal(g.slice, "P2_S1");
  assert.equal(g.edges.ts, g.targets * 5);
  assert.equal(g.edges.cs, g.targets * 4);
  assert.ok(!g.referenceSlices.includes("P2_S1"));
  assert.ok(g.references <= g.targets * 4 && g.references > 0);
  assert.equal(cli("graph", "synthetic", "--target", "P2_S1", "--slices", "P2_S1,P1_S1").code, 1);
});

Deno.test("file fingerprints see content rewritten at the same size and time", () => {
  const dir = tempDir();
  const f = join(dir, "image.bin");
  const bytes = new Uint8Array(300_000).map((_, i) => i % 251);
  Deno.writeFileSync(f, bytes);
  const t = new Date("2026-01-01T00:00:00Z");
  Deno.utimeSync(f, t, t);
  const before = fileFingerprint(f);
  assert.equal(fileFingerprint(f), before);
  bytes[299_990] ^= 1; // in the last sampled block
  Deno.writeFileSync(f, bytes);
  Deno.utimeSync(f, t, t);
  assert.notEqual(fileFingerprint(f), before);
  assert.match(before, /^300000:\d+:[0-9a-f]{16}$/);
});

Deno.test("train --genes: a comma list, a text file or the JSON hvg --json prints; unknown genes are named", () => {
  const dir = tempDir();
  const hvg = cli("hvg", "synthetic", "--n-top", "60", "--json");
  assert.equal(hvg.code, 0, hvg.stderr);
  const selected: string[] = JSON.parse(hvg.stdout).genes;
  Deno.writeTextFileSync(join(dir, "hvg.json"), hvg.stdout);
  Deno.writeTextFileSync(
    join(dir, "genes.txt"),
    `# my panel\n${selected.slice(0, 4).join("\n")}\n\n`,
  );
  const run = (genes: string) =>
    cli(
      "train",
      "synthetic",
      "--method",
      "ridge",
      "--folds",
      "P1_S1",
      "--cache",
      "none",
      "--genes",
      genes,
      "--json",
    );
  for (
    const [spec, n] of [[selected.slice(0, 3).join(","), 3], [join(dir, "genes.txt"), 4], [
      join(dir, "hvg.json"),
      selected.length,
    ]] as const
  ) {
    const r = run(spec);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.genes.count, n, spec);
    assert.equal(rep.genes.recipe, "list");
  }
  const bad = run(`${selected[0]},NOT_A_GENE`);
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    /gene NOT_A_GENE: 1 of the 2 listed genes are not in slice P1_S1 \(e.g\. NOT_A_GENE\)/,
  );
  // A recipe that selects nothing says what to try instead.
  const none = cli("hvg", "synthetic", "--recipe", "histogene");
  assert.equal(none.code, 1);
  assert.match(
    none.stderr,
    /selected no genes .*--recipe intersection or batch-ranked, or give your genes with --genes/,
  );
  const both = cli("train", "synthetic", "--genes", "A", "--recipe", "histogene");
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--recipe does not apply/);
});

Deno.test("train --parallel 2: folds in worker processes give the sequential run's numbers, checkpoints per fold cleared", () => {
  const run = (out: string, ...extra: string[]) => {
    const r = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        join(PROJECT_ROOT, "lib/cli/main.ts"),
        "train",
        "synthetic",
        "--method",
        "spahgc",
        "--epochs",
        "2",
        "--out",
        out,
        "--json",
        ...extra,
      ],
      // One BLAS thread on both sides: the same summation order, so the same floats.
      env: { NO_COLOR: "1", OPENBLAS_NUM_THREADS: "1" },
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    assert.ok(r.success, new TextDecoder().decode(r.stderr));
    return {
      report: JSON.parse(new TextDecoder().decode(r.stdout)),
      stderr: new TextDecoder().decode(r.stderr),
    };
  };
  const dir = tempDir();
  const seq = run(join(dir, "seq"));
  const par = run(join(dir, "par"), "--parallel", "2");
  assert.match(par.stderr, /training 6 folds in 2 worker processes/);
  assert.deepEqual(
    par.report.folds.map((
      f: { test: string; pcc: number; rmse: number },
    ) => [f.test, f.pcc, f.rmse]),
    seq.report.folds.map((
      f: { test: string; pcc: number; rmse: number },
    ) => [f.test, f.pcc, f.rmse]),
  );
  assert.ok(
    !exists(join(dir, "par", "checkpoints")) ||
      [...Deno.readDirSync(join(dir, "par", "checkpoints"))].length === 0,
  );
});
