/**
 * The baselines: their building blocks against independent computations and finite differences,
 * and each method learning on the synthetic cohort (better than predicting the training mean).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { tf, useBackend } from "../lib/model/backend.ts";
import {
  clipLoss,
  ParamStore,
  selfAttention,
  transformerBlock,
  transformerBlockParams,
} from "../lib/model/layers.ts";
import { retrieveExpression } from "../lib/model/baselines/neural.ts";
import { DEFAULT_CONFIG, SpaHGCNet } from "../lib/model/spahgc.ts";
import { knnPredict } from "../lib/model/baselines/knn.ts";
import { positionEncoding } from "../lib/model/baselines/contrastive.ts";
import { methodByName, METHODS } from "../lib/model/methods.ts";
import { crossValidate } from "../lib/train/experiment.ts";
import { builtinExtractor } from "../lib/features/extractors.ts";
import { expressionTarget, generateSynthetic, Rng } from "../lib/mod.ts";
import { selectGenes } from "../lib/preprocess/hvg.ts";
import { cli, cliJson, tempDir } from "./helpers.ts";

await useBackend("cpu");

const rand = (rng: Rng, shape: number[]) =>
  tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.normal()),
    shape,
  );

Deno.test("self-attention equals a per-head loop; CLIP loss equals its definition; gradients match finite differences", async () => {
  const rng = new Rng(4);
  const store = new ParamStore(rng);
  const n = 5, width = 8, heads = 2, dh = 4;
  const blk = transformerBlockParams(store, "t", width);
  const x = rand(rng, [n, width]) as tf.Tensor2D;
  const ours = await selfAttention(blk, x, heads, 0, undefined).data();
  // Reference: explicit loops over heads, queries and keys, from the same weights.
  const W = await blk.qkv.W.data(), b = await blk.qkv.b.data(), X = await x.data();
  const Wo = await blk.out.W.data(), bo = await blk.out.b.data();
  const qkv = Array.from({ length: n }, (_, i) =>
    Array.from({ length: 3 * width }, (_, j) => {
      let s = b[j];
      for (let k = 0; k < width; k++) s += X[i * width + k] * W[k * 3 * width + j];
      return s;
    }));
  const concat = Array.from({ length: n }, () => new Array(width).fill(0));
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < n; i++) {
      const sc = Array.from({ length: n }, (_, j) => {
        let s = 0;
        for (let d = 0; d < dh; d++) s += qkv[i][h * dh + d] * qkv[j][width + h * dh + d];
        return s / Math.sqrt(dh);
      });
      const m = Math.max(...sc), e = sc.map((s) => Math.exp(s - m)), z = e.reduce((a, c) => a + c);
      for (let d = 0; d < dh; d++) {
        concat[i][h * dh + d] = e.reduce(
          (a, c, j) => a + (c / z) * qkv[j][2 * width + h * dh + d],
          0,
        );
      }
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < width; j++) {
      let s = bo[j];
      for (let k = 0; k < width; k++) s += concat[i][k] * Wo[k * width + j];
      assert.ok(Math.abs(s - ours[i * width + j]) < 1e-4, `attention [${i}, ${j}]`);
    }
  }
  // CLIP loss: mean over both directions of −log softmax of the matching pair.
  const a = rand(rng, [4, 3]) as tf.Tensor2D, c = rand(rng, [4, 3]) as tf.Tensor2D;
  const A = await a.array() as number[][], C = await c.array() as number[][];
  const unit = (v: number[]) => v.map((x) => x / Math.hypot(...v));
  const An = A.map(unit), Cn = C.map(unit);
  const sim = An.map((r) => Cn.map((s) => r.reduce((t, x, k) => t + x * s[k], 0) / 0.1));
  const ce = (m: number[][]) =>
    m.reduce((t, row, i) => t - (row[i] - Math.log(row.reduce((u, v) => u + Math.exp(v), 0))), 0) /
    m.length;
  const expected = (ce(sim) + ce(sim[0].map((_, j) => sim.map((r) => r[j])))) / 2;
  assert.ok(Math.abs((await clipLoss(a, c, 0.1).data())[0] - expected) < 1e-4);
  // Finite differences through a transformer block and the CLIP loss.
  const w = rand(rng, [n, width]);
  const f = (v: tf.Tensor) =>
    tf.sum(tf.mul(transformerBlock(blk, v as tf.Tensor2D, heads, 0, undefined), w)) as tf.Scalar;
  const g = (v: tf.Tensor) => clipLoss(v as tf.Tensor2D, c, 0.5);
  for (const [name, fn, at] of [["transformer block", f, x], ["CLIP loss", g, a]] as const) {
    const analytic = Float32Array.from(await tf.grad(fn)(at).data());
    const base = Float32Array.from(await at.data());
    const dir = Float32Array.from(base, () => rng.normal());
    const norm = Math.hypot(...dir);
    const eps = 1e-2;
    const shift = (s: number) =>
      tf.tensor(base.map((v, k) => v + (s * eps * dir[k]) / norm), at.shape);
    const numeric = ((await fn(shift(1)).data())[0] - (await fn(shift(-1)).data())[0]) / (2 * eps);
    const exact = analytic.reduce((t, v, k) => t + (v * dir[k]) / norm, 0);
    const gnorm = Math.hypot(...analytic);
    assert.ok(Math.abs(numeric - exact) / gnorm < 2e-2, `${name}: ${numeric} vs ${exact}`);
  }
});

Deno.test("retrieval averages the top-k profiles; kNN weights by similarity; position encoding is sinusoidal", () => {
  // Bank rows 0..3 in 2-D; query (1, 0.1) is most similar to rows 0 and 2.
  const bank = Float32Array.from([1, 0, 0, 1, 1, 0.2, -1, 0]);
  const y = Float32Array.from([10, 1, 20, 2, 30, 3, 40, 4]);
  const r = retrieveExpression(Float32Array.from([1, 0.1]), bank, y, 2, 2, 2);
  assert.deepEqual(Array.from(r), [20, 2]);
  const k = knnPredict(Float32Array.from([1, 0.1]), bank, y, 2, 2, 2);
  const s0 = 1 / Math.hypot(1, 0.1), s2 = (1 + 0.02) / (Math.hypot(1, 0.1) * Math.hypot(1, 0.2));
  const w0 = (s0 + 1e-6) / (s0 + s2 + 2e-6);
  assert.ok(Math.abs(k[0] - (w0 * 10 + (1 - w0) * 30)) < 1e-4);
  const pe = positionEncoding(Float32Array.from([3, 5]), 8);
  assert.ok(Math.abs(pe[0] - Math.sin(3)) < 1e-6 && Math.abs(pe[1] - Math.cos(3)) < 1e-6);
  assert.ok(Math.abs(pe[2] - Math.sin(3 / 100)) < 1e-6);
  assert.ok(Math.abs(pe[4] - Math.sin(5)) < 1e-6);
});

Deno.test("every method learns on the synthetic cohort: PCC > 0.1 and RMSE below the training-mean predictor", async () => {
  const ds = generateSynthetic();
  const geneParams = {
    recipe: "intersection" as const,
    flavor: "seurat" as const,
    nTop: 1000,
    targetSum: 1e6,
  };
  // The yardstick: predicting every spot of the test slice as the training spots' mean profile.
  const genes = selectGenes(ds.slices, geneParams).genes;
  const target = (s: typeof ds.slices[0]) => {
    const col = new Map(s.genes.map((g, j) => [g, j]));
    return expressionTarget(s.counts, genes.map((g) => col.get(g)!));
  };
  const test = ds.slices.find((s) => s.name === "P1_S1")!;
  const G = genes.length, mean = new Float64Array(G);
  let nTrain = 0;
  for (const s of ds.slices.filter((x) => x !== test)) {
    const y = target(s);
    nTrain += s.counts.nRows;
    for (let k = 0; k < y.length; k++) mean[k % G] += y[k];
  }
  const yt = target(test);
  const meanRmse = Math.sqrt(
    yt.reduce((a, v, k) => a + (v - mean[k % G] / nTrain) ** 2, 0) / yt.length,
  );

  const ex = builtinExtractor({ workers: 1 });
  const cache = join(tempDir(), "cache");
  const rows: string[] = [];
  try {
    // SpaHGC itself is tested in model_test.ts and train_test.ts; here, the baselines.
    for (const name of Object.keys(METHODS).filter((m) => m !== "spahgc")) {
      // EGGN runs SpaHGC's network with the default preset, whose targets are min–max scaled per
      // slice (the released code's) and mapped back with the training slices' mean range: after
      // 20 epochs here its predictions are still biased low (PCC 0.25, RMSE 5.3 against 2.1 for
      // the mean predictor; measured). Standardised targets test that the network itself learns
      // the data's scale; the per-slice scaling's RMSE is reported in docs/results/her2st.md.
      const method = methodByName(name, {
        epochs: name === "eggn" ? 20 : 15,
        progress: () => {},
        ...(name === "eggn" ? { pipeline: { targets: "fold" as const } } : {}),
      });
      const r = await crossValidate({
        dataset: ds,
        method,
        extractor: ex,
        geneParams,
        folds: ["P1_S1"],
        cacheDir: cache,
        progress: () => {},
      });
      const f = r.folds[0];
      rows.push(
        `${name}: PCC ${f.pcc.toFixed(3)}, RMSE ${f.rmse.toFixed(3)} (mean predictor ${
          meanRmse.toFixed(3)
        })`,
      );
      assert.equal(r.method, name);
      assert.ok(f.pcc > 0.1, rows.at(-1));
      assert.ok(f.rmse < meanRmse, rows.at(-1));
    }
  } finally {
    await ex.close();
    console.log(rows.join("\n"));
  }
});

Deno.test("CLI: train --method <baseline> --json has the shared report shape; an unknown method is a clear error", () => {
  const out = cliJson(
    "train",
    "synthetic",
    "--method",
    "knn",
    "--folds",
    "P2_S2",
    "--cache",
    "none",
    "--json",
  );
  assert.equal(out.method, "knn");
  assert.ok([5, 10, 25, 50].includes(out.folds[0].selection.k), "K chosen from the grid");
  for (const k of ["test", "pcc", "rmse", "genesExcluded", "seconds"]) {
    assert.ok(k in out.folds[0], k);
  }
  const bad = cli("train", "synthetic", "--method", "magic", "--cache", "none");
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    /unknown method 'magic' \(available: spahgc, ridge, knn, mlp, bleep, mclstexp, histogene, eggn, nh2st\)/,
  );
});

Deno.test("test-set selection (the released code's protocol) is opt-in, picks the epoch on the test slice, and is labelled", async () => {
  const ds = generateSynthetic();
  const ex = builtinExtractor({ workers: 1 });
  const geneParams = {
    recipe: "intersection" as const,
    flavor: "seurat" as const,
    nTop: 1000,
    targetSum: 1e6,
  };
  try {
    for (const name of ["mlp", "spahgc"]) {
      const method = methodByName(name, {
        epochs: name === "spahgc" ? 1 : 3,
        selection: "test-set",
        progress: () => {},
      });
      const validate = (testSetSelection?: boolean) =>
        crossValidate({
          dataset: ds,
          method,
          extractor: ex,
          geneParams,
          folds: ["P2_S1"],
          cacheDir: null,
          progress: () => {},
          testSetSelection,
        });
      const r = await validate(true);
      assert.equal(r.folds[0].selection?.validationSlice, "P2_S1", name);
      assert.equal(r.folds[0].selection?.testSetSelection, true);
      assert.ok(r.notes.some((n) => n.startsWith("TEST-SET SELECTION")), name);
      // Without the runner's consent the method refuses.
      await assert.rejects(() => validate(), /needs the runner's testSetSelection mode/);
    }
  } finally {
    await ex.close();
  }
});

Deno.test("parameter counts leave out the weights an ablation switches off (EGGN vs SpaHGC)", () => {
  const h = 8, L = 2, genes = 5, dim = 6;
  const d = (i: number, o: number) => i * o + o;
  const mk = (ablation: Record<string, boolean>, architecture: "paper" | "released" = "paper") =>
    new SpaHGCNet({ ...DEFAULT_CONFIG, hidden: h, layers: L, dim, genes, ablation, architecture });
  const full = mk({});
  const total = [...full.params.vars.values()].reduce((a, v) => a + v.size, 0);
  const csSage = L * 2 * 2 * d(h, h); // csT and csR: lin_l + lin_r per layer
  const yNorms = L * 2 * h; // the released architecture's per-layer reference_y norms
  assert.equal(full.usedParameters(), total - csSage - yNorms);
  const eggn = mk({ noCNDA: true, noCNAP: true, noRS: true });
  const rs = L * 2 * d(h, h);
  const cnda = L * (5 * d(h, h) + 3 * d(2 * h, h)) + d(genes, h) + 2 * h;
  const cnap = 3 * d(h, h);
  assert.equal(eggn.usedParameters(), total - yNorms - rs - cnda - cnap);
  // Released: one input MLP for both node types, bias-free input projections and SAGE root
  // weights, reference_y normed per CNDA layer instead of once.
  const rel = mk({}, "released");
  const sharedMlp = d(h, h) + 2 * h; // rIn2 and rInNorm are not used
  const biases = 4 * h + L * 2 * h; // tIn1, tIn2, rIn1, refY, and the SAGE root-weight biases
  assert.equal(
    rel.usedParameters(),
    total - csSage - sharedMlp - biases - 2 * h, /* refYNorm */
  );
  for (const n of [full, eggn, rel]) n.dispose();
});
