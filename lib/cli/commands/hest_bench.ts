/** `spahgc hest-bench`. */
import { join } from "node:path";
import { runHestBenchmark } from "../../train/hest_benchmark.ts";
import { exportTable, markdownTable } from "../../provenance/table.ts";
import { type Command, json } from "../command.ts";
import { UsageError } from "../options.ts";
import { ENCODER_OPTIONS, METHOD_OPTIONS, spahgcOptions } from "../shared_options.ts";

export const hestBenchCommand: Command = {
  usage: "spahgc hest-bench <TASK_DIR> [--encoder …] [--methods ridge,spahgc] [--out DIR] [--json]",
  summary:
    "a HEST-Benchmark task: HEST's own probe (PCA 256 + ridge) and the project's methods over its splits, each read by HEST's pooled PCC and by per-slice PCC",
  options: {
    ...ENCODER_OPTIONS,
    methods: {
      type: "string",
      help: "the project's methods to run beside HEST's probe (comma-separated; default none)",
    },
    ...METHOD_OPTIONS,
    out: {
      type: "string",
      help:
        "folder for the table (CSV, Markdown, manifest) and the methods' run folders (resumable); default runs/hest-bench-<task>",
    },
    cache: { type: "string", help: "feature cache folder or 'none'" },
    json: { type: "boolean", help: "one JSON object on stdout" },
  },
  async run(v) {
    const [task] = v.positionals;
    if (!task) throw new UsageError("missing <TASK_DIR> (a HEST-Benchmark task folder)");
    if (v.str("embedding-key")) throw new UsageError("--embedding-key does not apply here");
    const options = spahgcOptions(v);
    const name = task.replace(/\/+$/, "").replace(/^.*\//, "");
    const out = v.str("out") ??
      join(Deno.env.get("SPAHGC_RUNS_DIR") ?? "runs", `hest-bench-${name}`);
    const cache = v.str("cache");
    const r = await runHestBenchmark({
      task,
      encoder: v.str("encoder") ?? "builtin",
      methods: v.list("methods"),
      options,
      out,
      cacheDir: cache === "none" ? null : cache,
    });
    const { files } = exportTable(r.table, out, "hest_bench", {
      title: `HEST-Benchmark ${name}: both readings on the same predictions`,
      params: {
        task,
        encoder: v.str("encoder") ?? "builtin",
        methods: v.list("methods") ?? [],
        probe: r.probe,
        genes: r.genes.length,
      },
      notes: r.notes,
      digits: 4,
    });
    if (v.flag("json")) {
      const splits = Object.fromEntries(
        Object.entries(r.splits).map(([m, ss]) => [
          m,
          ss.map((s) => ({ ...s, pooledPerGene: Array.from(s.pooledPerGene) })),
        ]),
      );
      json({ rows: r.table.toRecords(), splits, probe: r.probe, notes: r.notes, files });
    } else {
      console.log(markdownTable(r.table, { digits: 4 }));
      for (const n of r.notes) console.error(`note: ${n}`);
      console.log(`wrote ${files.join(", ")}`);
    }
    return 0;
  },
};
