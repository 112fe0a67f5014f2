/** Heterogeneous graph construction: hand-checked small graphs, variants, and leakage. */
import assert from "node:assert/strict";
import {
  buildBank,
  buildGraph,
  type GraphSlice,
  graphStats,
  PAPER_GRAPH,
  RELEASED_GRAPH,
} from "../lib/graph/hetero.ts";
import { cosineTopK, euclideanKnn } from "../lib/graph/knn.ts";
import { approximateCosineTopK } from "../lib/graph/ann.ts";
import { Rng } from "../lib/mod.ts";
import { throwsWith } from "./helpers.ts";

Deno.test("exact kNN and cosine top-K, ties broken by the lower index", () => {
  // Points on a line at 0, 1, 2, 4.
  const pts = Float32Array.from([0, 0, 1, 0, 2, 0, 4, 0]);
  const nn = euclideanKnn(pts, pts, 2, 2, { self: true });
  assert.deepEqual(Array.from(nn.index), [1, 2, 0, 2, 1, 0, 2, 1]); // point 1: 0 and 2 tie → 0 first
  const radius = euclideanKnn(pts, pts, 2, 2, { self: true, maxDistance: 1.5 });
  assert.deepEqual(Array.from(radius.index), [1, -1, 0, 2, 1, -1, -1, -1]);
  const q = Float32Array.from([1, 0]);
  const bank = Float32Array.from([0, 1, 2, 0, 1, 1, -1, 0, 5, 0]);
  const top = cosineTopK(q, bank, 2, 3);
  assert.deepEqual(Array.from(top.index), [1, 4, 2]); // cos 1 (tie: 1 before 4), then 1/√2
  assert.ok(Math.abs(top.score[2] - Math.SQRT1_2) < 1e-6);
});

/** A tiny target (4 spots) and two reference slices with 2-D features and 1 gene. */
function tiny() {
  const target: GraphSlice = {
    name: "T",
    n: 4,
    spots: ["t0", "t1", "t2", "t3"],
    coords: Float32Array.from([0, 0, 1, 0, 0, 1, 5, 5]),
    features: Float32Array.from([1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9]),
  };
  const r1: GraphSlice = {
    name: "R1",
    n: 3,
    spots: ["a", "b", "c"],
    coords: Float32Array.from([0, 0, 1, 0, 2, 0]),
    features: Float32Array.from([1, 0, 0, 1, 0.7, 0.7]),
    expression: Float32Array.from([10, 20, 15]),
  };
  const r2: GraphSlice = {
    name: "R2",
    n: 2,
    spots: ["d", "e"],
    coords: Float32Array.from([0, 0, 1, 0]),
    features: Float32Array.from([0.95, 0.05, -1, 0]),
    expression: Float32Array.from([11, 99]),
  };
  return { target, r1, r2 };
}

Deno.test("a hand-checked graph: TS neighbours, CS retrieval, unique reference nodes, RS edges", () => {
  const { target, r1, r2 } = tiny();
  const bank = buildBank([r1, r2], ["T"]);
  const g = buildGraph(
    target,
    bank,
    { Q: 2, K: 2, ts: "knn", rs: "cosine" },
    new Map([["R1", r1.spots], ["R2", r2.spots]]),
  );
  // TS: t0 → t1, t2 (both at distance 1; lower index first); t3 → t1, t2 (distance √32 and √41… t1 √41, t2 √41 → t1 first).
  assert.deepEqual(Array.from(g.ts.index), [1, 2, 0, 2, 0, 1, 1, 2]);
  // CS: t0 = (1,0) → a (cos 1), d (0.9986); t2 = (0,1) → b (cos 1), c (0.707).
  const names = (t: number) =>
    Array.from(g.cs.index.subarray(t * 2, t * 2 + 2), (r) => g.reference.origin[r].spot);
  assert.deepEqual(names(0), ["a", "d"]);
  assert.deepEqual(names(2), ["b", "c"]);
  // Unique reference nodes in order of first retrieval; expression carried along.
  assert.deepEqual(g.reference.origin.map((o) => o.spot), ["a", "d", "b", "c"]);
  assert.deepEqual(Array.from(g.reference.expression), [10, 11, 20, 15]);
  // RS (cosine of [z ‖ y]): every reference node has K = 2 neighbours, never itself.
  assert.equal(g.rs.degree, 2);
  for (let r = 0; r < g.reference.n; r++) {
    assert.ok(!Array.from(g.rs.index.subarray(r * 2, r * 2 + 2)).includes(r));
  }
  const st = graphStats(g);
  assert.deepEqual(st.edges, { ts: 8, cs: 8, rs: 8 });
  assert.deepEqual(st.referenceSlices, ["R1", "R2"]);
  assert.equal(st.degree.csPerReference.max, 2);
});

Deno.test("released-code variants: radius √10 TS edges (≤ Q) and Euclidean k = 3 RS edges", () => {
  const { target, r1, r2 } = tiny();
  const g = buildGraph(target, buildBank([r1, r2], []), { ...RELEASED_GRAPH, Q: 3, K: 2 });
  // t3 at (5,5) has no spot within √10: all its slots are empty.
  assert.deepEqual(Array.from(g.ts.index.subarray(9, 12)), [-1, -1, -1]);
  assert.equal(g.rs.degree, 3);
  assert.equal(graphStats(g).edges.ts, 6);
});

Deno.test("leakage: a held-out slice can never enter the reference bank or be its own reference", async () => {
  const { target, r1, r2 } = tiny();
  await throwsWith(
    () => buildBank([r1, r2, { ...target, expression: new Float32Array(4) }], ["T"]),
    "held-out slice(s) T",
  );
  await throwsWith(() => buildBank([r1, r2], ["R2"]), "held-out slice(s) R2");
  const withTarget = buildBank([r1, { ...target, expression: new Float32Array(4) }], []);
  await throwsWith(() => buildGraph(target, withTarget, PAPER_GRAPH), "in its own reference bank");
  // A lone training slice may retrieve from itself only when asked, and never the same spot.
  const self = buildGraph(
    target,
    buildBank([{ ...target, expression: new Float32Array(4) }], []),
    { ...PAPER_GRAPH, Q: 2, K: 2 },
    new Map([["T", target.spots]]),
    { selfBank: true },
  );
  for (let t = 0; t < 4; t++) {
    for (const r of self.cs.index.subarray(t * 2, t * 2 + 2)) {
      assert.notEqual(self.reference.origin[r].spot, target.spots[t]);
    }
  }
  // Every retrieved reference comes from a bank slice.
  const g = buildGraph(target, buildBank([r1, r2], ["T"]), { ...PAPER_GRAPH, Q: 2, K: 3 });
  assert.ok(g.reference.origin.every((o) => o.slice === "R1" || o.slice === "R2"));
});

Deno.test("approximate retrieval (usearch HNSW) recovers the exact top-K with high recall", () => {
  const rng = new Rng(21);
  const dim = 32, nb = 5000, nq = 200, k = 7;
  const bank = Float32Array.from({ length: nb * dim }, () => rng.normal());
  const queries = Float32Array.from({ length: nq * dim }, () => rng.normal());
  const exact = cosineTopK(queries, bank, dim, k),
    approx = approximateCosineTopK(queries, bank, dim, k);
  let hits = 0;
  for (let q = 0; q < nq; q++) {
    const truth = new Set(exact.index.subarray(q * k, (q + 1) * k));
    for (const v of approx.index.subarray(q * k, (q + 1) * k)) if (truth.has(v)) hits++;
  }
  const recall = hits / (nq * k);
  assert.ok(recall > 0.95, `recall@${k} = ${recall}`);
  // Scores are cosine similarities, as the exact path reports them.
  assert.ok(
    Math.abs(approx.score[0] - exact.score[0]) < 1e-4 || approx.index[0] !== exact.index[0],
  );
});
