/** PCA, k-means and tumour localisation (ARI against region labels). */
import assert from "node:assert/strict";
import { expressionTarget, generateSynthetic, Rng } from "../lib/mod.ts";
import { kmeansLabels, pcaScores, tumourLocalisation } from "../lib/eval/clustering.ts";
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
