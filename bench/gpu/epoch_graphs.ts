/**
 * The benchmark epoch's graphs, built once by our graph builder and shared by both sides of the
 * GPU comparison: our trainer times an epoch over them (`run.ts --mode epoch`), and the authors'
 * released model times an epoch over the very same graphs (`authors_epoch.py`), read from the
 * files `writeGraphs` leaves. The epoch is the CPU bench's (`bench/train_epoch.ts`): one test
 * slice held out, every other slice a target against a bank of the rest.
 *
 * The file format is for numpy, which has no reader for anything of ours: per graph,
 * `graph<i>.json` (sizes and the relations' edge counts) and `graph<i>.bin`, little-endian arrays
 * one after another — target_x (nT × dim, float32), target_y (nT × G), reference_x
 * (nR × (dim + G): features, then expression, as the released model slices them), and for
 * ts, cs, rs the PyG `edge_index` (2 × E, int64: sources, then destinations).
 */
import { join } from "node:path";
import {
  buildBank,
  buildGraph,
  type GraphParams,
  type GraphSlice,
  type HeteroGraph,
} from "../../lib/graph/hetero.ts";
import { copyColumns } from "../../lib/model/layers.ts";

export interface EpochGraph {
  graph: HeteroGraph;
  /** The target slice's expression (nT × G), what the graph is trained to predict. */
  y: Float32Array;
}

/**
 * Each slice (with its expression) as a target against a bank of the others; `test`, the fold's
 * held-out slice, is never a target nor in a bank (it may be absent from `slices`).
 */
export function epochGraphs(
  slices: GraphSlice[],
  test: string,
  params: GraphParams,
): EpochGraph[] {
  const gs = slices.filter((s) => s.name !== test);
  if (gs.length < 2) throw new Error("the epoch needs at least two slices besides the test slice");
  return gs.map((t) => {
    if (!t.expression) throw new Error(`slice ${t.name} has no expression to train on`);
    return {
      graph: buildGraph(t, buildBank(gs.filter((s) => s !== t), [t.name, test]), params),
      y: t.expression,
    };
  });
}

/**
 * A fixed-degree neighbour table (row = destination, −1 = empty slot) as PyG's edge_index:
 * messages flow from the neighbour (source) to the row's node (destination).
 */
export function edgeIndex(index: Int32Array, degree: number): BigInt64Array {
  const src: number[] = [], dst: number[] = [];
  for (let k = 0; k < index.length; k++) {
    if (index[k] < 0) continue;
    src.push(index[k]);
    dst.push(Math.floor(k / degree));
  }
  const out = new BigInt64Array(2 * src.length);
  src.forEach((s, e) => {
    out[e] = BigInt(s);
    out[src.length + e] = BigInt(dst[e]);
  });
  return out;
}

/** Writes the graphs for `authors_epoch.py` (format in the module's comment). */
export function writeGraphs(dir: string, graphs: EpochGraph[]): void {
  Deno.mkdirSync(dir, { recursive: true });
  graphs.forEach(({ graph: g, y }, i) => {
    const d = g.target.dim, G = g.reference.genes, nR = g.reference.n;
    const reference = new Float32Array(nR * (d + G));
    copyColumns(reference, [g.reference.features, g.reference.expression], [d, G], false);
    const edges = {
      ts: edgeIndex(g.ts.index, g.ts.degree),
      cs: edgeIndex(g.cs.index, g.cs.degree),
      rs: edgeIndex(g.rs.index, g.rs.degree),
    };
    const parts: ArrayBufferView[] = [
      g.target.features,
      y,
      reference,
      edges.ts,
      edges.cs,
      edges.rs,
    ];
    const bytes = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
    let off = 0;
    for (const p of parts) {
      bytes.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), off);
      off += p.byteLength;
    }
    Deno.writeFileSync(join(dir, `graph${i}.bin`), bytes);
    Deno.writeTextFileSync(
      join(dir, `graph${i}.json`),
      JSON.stringify({
        target: g.target.slice,
        targets: g.target.n,
        references: nR,
        dim: d,
        genes: G,
        edges: { ts: edges.ts.length / 2, cs: edges.cs.length / 2, rs: edges.rs.length / 2 },
      }) + "\n",
    );
  });
}
