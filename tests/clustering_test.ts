/** PCA, k-means and tumour localisation (ARI against region labels). */
import assert from "node:assert/strict";
import { expressionTarget, generateSynthetic, Rng } from "../lib/mod.ts";
import {
  kmeansLabels,
  louvainLabels,
  pcaScores,
  tumourLocalisation,
} from "../lib/eval/clustering.ts";
import { adjustedRandIndex } from "../lib/eval/stats.ts";
import { HAVE_ANNDATA, python } from "./helpers.ts";

Deno.test({
  name: "PCA scores equal numpy's SVD scores up to sign",
  ignore: !HAVE_ANNDATA,
  fn() {
    const rng = new Rng(4);
    const n = 30, d = 50;
    const x = Float64Array.from({ length: n * d }, (_, k) => rng.normal() * (1 + (k % d) / 10));
    const ours = pcaScores(x, n, d, 3);
    const ref: number[][] = JSON.parse(python(
      `
import json, sys, numpy as np
x = np.array(json.loads(sys.argv[1])).reshape(30, 50); x = x - x.mean(0)
u, s, vt = np.linalg.svd(x, full_matrices=False); print(json.dumps((u[:, :3] * s[:3]).tolist()))`,
      JSON.stringify(Array.from(x)),
    ));
    for (let c = 0; c < 3; c++) {
      const sign = Math.sign(ours[c]) === Math.sign(ref[0][c]) ? 1 : -1;
      for (let i = 0; i < n; i++) {
        assert.ok(Math.abs(ours[i * 3 + c] - sign * ref[i][c]) < 1e-8, `PC${c + 1}, spot ${i}`);
      }
    }
  },
});

Deno.test("k-means recovers well-separated groups; tumour localisation on the synthetic cohort", () => {
  const rng = new Rng(5);
  const pts = Array.from(
    { length: 60 },
    (_, i) => [i < 30 ? 0 : 8, i < 30 ? 0 : 8].map((c) => c + rng.normal()),
  );
  const labels = kmeansLabels(pts.flat(), 60, 2, 2, 1);
  assert.equal(adjustedRandIndex(labels, pts.map((_, i) => (i < 30 ? 0 : 1))), 1);
  // Synthetic slice: tumour domain vs the rest, from measured expression (the ceiling) and from a
  // deliberately uninformative "prediction" (noise).
  const s = generateSynthetic().slices[2];
  const G = s.counts.nCols;
  const measured = expressionTarget(s.counts, Array.from({ length: G }, (_, j) => j));
  const noise = Float32Array.from(measured, () => rng.normal());
  const r = tumourLocalisation(noise, measured, G, s.labels.domain, { tumourLabels: ["tumour"] });
  assert.equal(r.spots, s.counts.nRows);
  assert.ok(r.ariMeasured > 0.5, `measured ARI ${r.ariMeasured}`);
  assert.ok(Math.abs(r.ariPredicted) < 0.1, `noise ARI ${r.ariPredicted}`);
  assert.match(r.method, /k-means \(k = 2/);
});

Deno.test("Louvain on a kNN graph finds planted groups, is seed-reproducible, and scores tumour maps", () => {
  const rng = new Rng(11);
  // Three well-separated blobs in 5-D; Louvain's cluster count follows the data, not a k.
  const n = 90, d = 5;
  const x = new Float64Array(n * d);
  const truth = Array.from({ length: n }, (_, i) => Math.floor(i / 30));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      x[i * d + j] = truth[i] * 10 * (j === truth[i] ? 1 : 0) + rng.normal();
    }
  }
  const a = louvainLabels(x, n, d, { neighbours: 10, seed: 3 });
  assert.equal(new Set(a).size, 3);
  assert.equal(adjustedRandIndex(a, truth), 1);
  assert.deepEqual(louvainLabels(x, n, d, { neighbours: 10, seed: 3 }), a);
  // Through the tumour-localisation path: measured synthetic expression, Louvain, labels returned.
  const s = generateSynthetic().slices[2];
  const G = s.counts.nCols;
  const measured = expressionTarget(s.counts, Array.from({ length: G }, (_, j) => j));
  const r = tumourLocalisation(measured, measured, G, s.labels.domain, {
    tumourLabels: ["tumour"],
    algorithm: "louvain",
    resolution: 0.3,
  });
  assert.match(r.method, /Louvain \(resolution 0.3/);
  assert.equal(r.clustersMeasured.length, r.spots);
  assert.deepEqual(r.clustersPredicted, r.clustersMeasured);
  assert.ok(r.ariMeasured > 0.3, `Louvain measured ARI ${r.ariMeasured}`);
  // Missing labels are left out and counted, never guessed.
  const partial = s.labels.domain.map((v, i) => (i % 4 === 0 ? null : v));
  const r2 = tumourLocalisation(measured, measured, G, partial, { tumourLabels: ["tumour"] });
  assert.equal(r2.excluded, partial.filter((v) => v === null).length);
  assert.equal(r2.spots + r2.excluded, s.counts.nRows);
  assert.ok(r2.spotIndex.every((i) => partial[i] !== null));
});
