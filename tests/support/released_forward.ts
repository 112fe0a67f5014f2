/**
 * A fixed case for checking the `released` network against the authors' model.py: a random
 * graph built with the released graph rules (d 20, M 12, 40 targets), the network's seeded
 * starting values (hidden 256 and 4 layers, as model.py fixes them), the clean-graph
 * prediction, the loss MSE + 0.5·(1 − PCC) and its gradient for a few weights.
 *
 * Run as a script with a path, it writes the case with every weight as JSON, for
 * `tests/reference/released_forward.py` to evaluate with the released code.
 */
import { tf } from "../../lib/model/backend.ts";
import { DEFAULT_CONFIG, graphTensors, pccLoss, SpaHGCNet } from "../../lib/model/spahgc.ts";
import { buildBank, buildGraph, type GraphSlice, RELEASED_GRAPH } from "../../lib/graph/hetero.ts";
import { Rng } from "../../lib/util/random.ts";

/** Weights whose loss gradients the check compares (ours, [in, out] layout). */
export const CHECKED_GRADIENTS = [
  "tIn1.W",
  "rIn1.W",
  "tIn2.W",
  "refY.W",
  "L0.cnda.tk.W",
  "L3.cnda.yNorm.g",
  "L1.ts.lin_l.W",
  "L2.rs.lin_r.W",
  "cnap.q.W",
  "head.W",
];

export function releasedForwardCase(architecture: "paper" | "released" = "released") {
  const rng = new Rng(5);
  const d = 20, M = 12;
  const grid = (n: number) =>
    Float32Array.from({ length: 2 * n }, (_, k) => (k % 2 ? Math.floor(k / 14) : (k / 2) % 7));
  const mk = (name: string, n: number, withY: boolean): GraphSlice => ({
    name,
    n,
    spots: Array.from({ length: n }, (_, i) => `${name}${i}`),
    coords: grid(n),
    features: Float32Array.from({ length: n * d }, () => rng.normal()),
    expression: withY ? Float32Array.from({ length: n * M }, () => rng.uniform()) : undefined,
  });
  const g = buildGraph(
    mk("T", 40, false),
    buildBank([mk("A", 30, true), mk("B", 35, true)], ["T"]),
    RELEASED_GRAPH,
  );
  const net = new SpaHGCNet({
    ...DEFAULT_CONFIG,
    dim: d,
    genes: M,
    architecture,
    seed: 3,
  });
  const gt = graphTensors(g);
  const y = tf.tensor2d(Float32Array.from({ length: g.target.n * M }, () => rng.uniform()), [
    g.target.n,
    M,
  ]);
  const forward = () => net.head(net.live(), net.encode(net.live(), gt, gt.xT, gt.hR).t);
  const pred = tf.tidy(forward);
  const { value, grads } = tf.variableGrads(() => {
    const p = forward();
    return tf.add(tf.mean(tf.squaredDifference(p, y)), tf.mul(0.5, pccLoss(p, y))) as tf.Scalar;
  });
  const byName = new Map([...net.params.vars].map(([k, v]) => [v.name, k]));
  const gradients: Record<string, Float32Array> = {};
  for (const [vn, t] of Object.entries(grads)) {
    const k = byName.get(vn);
    if (k && CHECKED_GRADIENTS.includes(k)) gradients[k] = t.dataSync() as Float32Array;
  }
  const result = {
    d,
    M,
    graph: g,
    hR: gt.hR.dataSync() as Float32Array,
    y: y.dataSync() as Float32Array,
    pred: pred.dataSync() as Float32Array,
    loss: value.dataSync()[0],
    gradients,
    params: new Map(
      [...net.params.vars].map(([k, v]) => [k, { shape: v.shape, data: v.dataSync() }]),
    ),
  };
  for (const t of [pred, value, y, ...Object.values(grads)]) t.dispose();
  gt.dispose();
  net.dispose();
  return result;
}

/** Edge lists [sources, destinations] from a fixed-degree index (−1 = empty). */
function edges(index: Int32Array, degree: number): [number[], number[]] {
  const s: number[] = [], t: number[] = [];
  index.forEach((v, e) => {
    if (v >= 0) {
      s.push(v);
      t.push(Math.floor(e / degree));
    }
  });
  return [s, t];
}

if (import.meta.main) {
  const { useBackend } = await import("../../lib/model/backend.ts");
  await useBackend("cpu");
  const c = releasedForwardCase();
  const g = c.graph;
  Deno.writeTextFileSync(
    Deno.args[0],
    JSON.stringify({
      d: c.d,
      M: c.M,
      nT: g.target.n,
      nR: g.reference.n,
      xT: Array.from(g.target.features),
      hR: Array.from(c.hR),
      y: Array.from(c.y),
      ts: edges(g.ts.index, g.ts.degree),
      cs: edges(g.cs.index, g.cs.degree),
      rs: edges(g.rs.index, g.rs.degree),
      params: Object.fromEntries(
        [...c.params].map(([k, v]) => [k, { shape: v.shape, data: Array.from(v.data) }]),
      ),
      pred: Array.from(c.pred),
      loss: c.loss,
      grads: Object.fromEntries(Object.entries(c.gradients).map(([k, v]) => [k, Array.from(v)])),
    }),
  );
}
