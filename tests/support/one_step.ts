/** One SpaHGC training step on a fixed tiny graph on the backend named in argv; prints JSON. */
import { tf, useBackend } from "../../lib/model/backend.ts";
import { DEFAULT_CONFIG, graphTensors, SpaHGCTrainer } from "../../lib/model/spahgc.ts";
import { buildBank, buildGraph, type GraphSlice, PAPER_GRAPH } from "../../lib/graph/hetero.ts";
import { Rng } from "../../lib/util/random.ts";

const backend = await useBackend(Deno.args[0] as "cpu");
const rng = new Rng(3);
const d = 6, M = 5;
const mk = (name: string, n: number, withY: boolean): GraphSlice => ({
  name,
  n,
  spots: Array.from({ length: n }, (_, i) => `${name}${i}`),
  coords: Float32Array.from({ length: 2 * n }, (_, k) => (k % 2 ? Math.floor(k / 8) : (k / 2) % 4)),
  features: Float32Array.from({ length: n * d }, () => rng.normal()),
  expression: withY ? Float32Array.from({ length: n * M }, () => rng.uniform() * 3) : undefined,
});
const g = buildGraph(mk("T", 12, false), buildBank([mk("A", 10, true), mk("B", 9, true)], ["T"]), {
  ...PAPER_GRAPH,
  Q: 3,
  K: 4,
});
const y = tf.tensor2d(Float32Array.from({ length: 12 * M }, () => rng.uniform() * 3), [12, M]);
const step = async (architecture: "paper" | "released") => {
  const tr = new SpaHGCTrainer(
    {
      ...DEFAULT_CONFIG,
      dim: d,
      genes: M,
      hidden: 8,
      heads: 2,
      layers: 2,
      dropout: 0,
      attnDropout: 0,
      architecture,
    },
    1e-2,
    1e-4,
  );
  const losses = await tr.trainStep(graphTensors(g), y);
  const w = Array.from(await tr.net.params.vars.get("L1.cnda.tq.W")!.data());
  return { losses, w };
};
console.log(
  JSON.stringify({ backend, ...(await step("paper")), released: await step("released") }),
);
