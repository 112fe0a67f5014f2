/** Statistical tests against Debian's scipy 1.10 / sklearn, on cases generated here. */
import assert from "node:assert/strict";
import {
  adjustedRandIndex,
  benjaminiHochberg,
  erfc,
  mannWhitneyU,
  wilcoxonSignedRank,
} from "../lib/eval/stats.ts";
import { Rng } from "../lib/mod.ts";
import { HAVE_ANNDATA, python } from "./helpers.ts";

const rng = new Rng(2024);
const sample = (n: number, round = 0, shift = 0) =>
  Array.from({ length: n }, () => {
    const v = rng.normal() + shift;
    return round ? Math.round(v * round) / round : v;
  });

Deno.test("erfc matches known values to double precision", () => {
  for (
    const [x, v] of [
      [0, 1],
      [0.5, 0.4795001221869535],
      [1, 0.15729920705028513],
      [2.5, 4.069520174449589e-4],
      [5, 1.5374597944280351e-12],
      [-1, 1.8427007929497148],
    ]
  ) {
    assert.ok(
      Math.abs(erfc(x) - v) <= 1e-14 * Math.max(1, v) + 1e-16 * v,
      `erfc(${x}) = ${erfc(x)}, expected ${v}`,
    );
  }
});

Deno.test({
  name:
    "wilcoxonSignedRank and mannWhitneyU equal scipy 1.10 (exact, ties, zeros, approximations, alternatives)",
  ignore: !HAVE_ANNDATA,
  fn() {
    const w = [
      { x: sample(6), y: sample(6, 0, 0.5) }, // exact, no ties (the 6-section case)
      { x: sample(12, 2), y: sample(12, 2) }, // exact with ties
      { x: [...sample(18, 1), 1, 2], y: [...sample(18, 1), 1, 2] }, // zero differences → approx
      { x: sample(60), y: sample(60, 0, 0.2) }, // n > 50 → approx
    ];
    const m = [
      { x: sample(5), y: sample(6, 0, 1) }, // exact
      { x: sample(7, 1), y: sample(4, 1) }, // ties → asymptotic
      { x: sample(20, 4), y: sample(25, 4, 0.3) }, // large, ties
      { x: sample(3), y: sample(30, 0, -0.5) }, // one small sample, no ties → exact
    ];
    const ref = JSON.parse(python(
      `
import json, sys
from scipy.stats import wilcoxon, mannwhitneyu
cases = json.loads(sys.argv[1]); out = {"w": [], "m": []}
for c in cases["w"]:
    for alt in ["two-sided", "less", "greater"]:
        r = wilcoxon(c["x"], c["y"], alternative=alt); out["w"].append([float(r.statistic), float(r.pvalue)])
    r = wilcoxon(c["x"], c["y"], correction=True, method="approx"); out["w"].append([float(r.statistic), float(r.pvalue)])
for c in cases["m"]:
    for alt in ["two-sided", "less", "greater"]:
        r = mannwhitneyu(c["x"], c["y"], alternative=alt); out["m"].append([float(r.statistic), float(r.pvalue)])
print(json.dumps(out))`,
      JSON.stringify({ w, m }),
    ));
    let k = 0;
    for (const c of w) {
      for (const alternative of ["two-sided", "less", "greater"] as const) {
        const r = wilcoxonSignedRank(c.x, c.y, { alternative });
        const [s, p] = ref.w[k++];
        assert.equal(r.statistic, s, `wilcoxon ${alternative} statistic`);
        assert.ok(
          Math.abs(r.pValue - p) < 1e-10 + 1e-9 * p,
          `wilcoxon ${alternative}: ${r.pValue} vs scipy ${p} (${r.method})`,
        );
      }
      const r = wilcoxonSignedRank(c.x, c.y, { correction: true, method: "approx" });
      const [s, p] = ref.w[k++];
      assert.equal(r.statistic, s);
      assert.ok(
        Math.abs(r.pValue - p) < 1e-10 + 1e-9 * p,
        `wilcoxon approx+correction: ${r.pValue} vs ${p}`,
      );
    }
    k = 0;
    for (const c of m) {
      for (const alternative of ["two-sided", "less", "greater"] as const) {
        const r = mannWhitneyU(c.x, c.y, { alternative });
        const [s, p] = ref.m[k++];
        assert.equal(r.statistic, s, `mwu ${alternative} statistic`);
        assert.ok(
          Math.abs(r.pValue - p) < 1e-10 + 1e-9 * p,
          `mwu ${alternative}: ${r.pValue} vs scipy ${p} (${r.method})`,
        );
      }
    }
    // The floor the evaluation protocol notes: 6 pairs, all one way → exact two-sided p = 2/2^6.
    assert.equal(wilcoxonSignedRank([1, 2, 3, 4, 5, 6], [0, 0, 0, 0, 0, 0]).pValue, 2 / 64);
  },
});

Deno.test({
  name: "Benjamini–Hochberg and the adjusted Rand index equal numpy / sklearn",
  ignore: !HAVE_ANNDATA,
  fn() {
    const p = Array.from({ length: 40 }, () => rng.uniform() ** 3);
    const a = Array.from({ length: 200 }, () => rng.int(4)),
      b = a.map((v) => (rng.uniform() < 0.7 ? v : rng.int(3)));
    const ref = JSON.parse(python(
      `
import json, sys, numpy as np
from sklearn.metrics import adjusted_rand_score
d = json.loads(sys.argv[1]); p = np.array(d["p"]); m = len(p); o = np.argsort(p)
q = np.minimum.accumulate((p[o] * m / np.arange(1, m + 1))[::-1])[::-1]; q = np.minimum(q, 1); out = np.empty(m); out[o] = q
print(json.dumps({"q": out.tolist(), "ari": adjusted_rand_score(d["a"], d["b"]), "ari1": adjusted_rand_score(d["a"], d["a"])}))`,
      JSON.stringify({ p, a, b }),
    ));
    benjaminiHochberg(p).forEach((q, i) => assert.ok(Math.abs(q - ref.q[i]) < 1e-12));
    assert.ok(
      Math.abs(adjustedRandIndex(a, b) - ref.ari) < 1e-12,
      `${adjustedRandIndex(a, b)} vs ${ref.ari}`,
    );
    assert.equal(adjustedRandIndex(a, a), ref.ari1);
    assert.ok(Number.isNaN(benjaminiHochberg([0.01, NaN])[1]));
  },
});
