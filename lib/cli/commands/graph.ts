/** `spahgc graph`. */
import { DataError, WarningLog } from "../../errors.ts";
import { loadDataset } from "../../datasets/registry.ts";
import { selectGenes } from "../../preprocess/hvg.ts";
import { parseEncoder, sliceFeatures } from "../../features/extractors.ts";
import {
  buildBank,
  buildGraph,
  type GraphParams,
  graphStats,
  toGraphSlice,
} from "../../graph/hetero.ts";
import { expressionTarget } from "../../preprocess/normalize.ts";
import type { Slice } from "../../data/slice.ts";
import { type Command, json } from "../command.ts";
import { UsageError } from "../options.ts";
import { SPAHGC_DEFAULT_PRESET, SPAHGC_PRESETS } from "../../model/spahgc_method.ts";
import {
  ANNDATA_OPTIONS,
  annDataOptions,
  ENCODER_OPTIONS,
  GENE_OPTIONS,
  geneParams,
} from "../shared_options.ts";

export const graphCommand: Command = {
  usage:
    "spahgc graph <dataset> --target SLICE [--slices A,B,…] [--Q 5] [--K 7] [--ts knn|radius] [--rs cosine|euclidean] [--encoder …] [--json] (defaults: the default preset's graph)",
  summary:
    "build the heterogeneous graph of one target slice against a bank of the others and print its statistics",
  options: {
    target: { type: "string", help: "the target slice (never in its own bank)" },
    slices: { type: "string", help: "bank slices (default: all other slices with an image)" },
    Q: { type: "integer", min: 1, max: 50, help: "TS neighbours (default 5)" },
    K: { type: "integer", min: 1, max: 50, help: "CS references per target (default 7)" },
    ts: {
      type: "string",
      choices: ["knn", "radius"],
      help: "knn (paper) | radius (released code)",
    },
    rs: {
      type: "string",
      choices: ["cosine", "euclidean"],
      help: "cosine (paper) | euclidean (released code)",
    },
    ...ENCODER_OPTIONS,
    ...ANNDATA_OPTIONS,
    "data-dir": { type: "string", help: "data directory" },
    json: { type: "boolean", help: "JSON output" },
    ...GENE_OPTIONS,
  },
  async run(v) {
    const [name] = v.positionals;
    if (!name) throw new UsageError("missing <dataset>");
    const targetName = v.str("target");
    if (!targetName) throw new UsageError("missing --target SLICE");
    const ds = await loadDataset(name, {
      dataDir: v.str("data-dir"),
      anndata: annDataOptions(v),
      log: new WarningLog(!v.flag("json")),
    });
    const target = ds.slices.find((s) => s.name === targetName);
    if (!target) throw new DataError(`slice ${targetName} not in ${ds.name}`);
    const bankNames = v.list("slices") ??
      ds.slices.filter((s) => s.image && s !== target).map((s) => s.name);
    const genes = selectGenes(ds.slices, geneParams(name, v)).genes;
    const ex = parseEncoder(v.str("encoder") ?? "builtin", {
      embeddingKey: v.str("embedding-key"),
    });
    try {
      const prep = async (s: Slice) => {
        const col = new Map(s.genes.map((g, j) => [g, j]));
        const e = await sliceFeatures(s, ex);
        return toGraphSlice(
          s,
          e.data,
          expressionTarget(s.counts, genes.map((g) => col.get(g)!), "paper", s.normalised),
        );
      };
      const bankSlices = [];
      for (const n of bankNames) {
        const s = ds.slices.find((x) => x.name === n);
        if (!s) throw new DataError(`slice ${n} not in ${ds.name}`);
        bankSlices.push(await prep(s));
      }
      // The graph SpaHGC builds by default, with what the options change.
      const base = SPAHGC_PRESETS[SPAHGC_DEFAULT_PRESET].graph;
      const p: GraphParams = {
        ...base,
        Q: v.int("Q") ?? base.Q,
        K: v.int("K") ?? base.K,
        ts: v.choice("ts", ["knn", "radius"], base.ts),
        rs: v.choice("rs", ["cosine", "euclidean"], base.rs),
      };
      const g = buildGraph(
        await prep(target),
        buildBank(bankSlices, [target.name]),
        p,
        new Map(bankSlices.map((b) => [b.name, b.spots])),
      );
      const st = graphStats(g);
      if (v.flag("json")) json({ params: p, genes: genes.length, ...st });
      else {
        console.log(
          `graph of ${st.slice} (Q = ${p.Q}, K = ${p.K}, TS ${p.ts}, RS ${p.rs}) against ${
            bankNames.join(", ")
          }`,
        );
        console.log(
          `  nodes: ${st.targets} targets, ${st.references} references (from ${
            st.referenceSlices.join(", ")
          })`,
        );
        console.log(`  edges: TS ${st.edges.ts}, CS ${st.edges.cs}, RS ${st.edges.rs}`);
        console.log(
          `  CS in-degree of references: ${st.degree.csPerReference.min}–${st.degree.csPerReference.max}; mean CS cosine ${
            st.meanCsSimilarity.toFixed(3)
          }`,
        );
      }
    } finally {
      await ex.close();
    }
    return 0;
  },
};
