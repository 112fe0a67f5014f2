/** `spahgc features`. */
import { DataError, WarningLog } from "../../errors.ts";
import { loadDataset } from "../../datasets/registry.ts";
import { defaultCacheDir, parseEncoder, sliceFeatures } from "../../features/extractors.ts";
import { exportEmbeddingsCsv, parseColumns } from "../../features/export.ts";
import { type Command, json } from "../command.ts";
import { ANNDATA_OPTIONS, annDataOptions, ENCODER_OPTIONS } from "../shared_options.ts";
import { UsageError } from "../options.ts";

export const featuresCommand: Command = {
  usage:
    "spahgc features <dataset> [--encoder builtin|onnx:PATH|file:PATH] [--slices A,B] [--cache DIR|none] [--export DIR [--columns 74-103,184-203]] [--data-dir DIR] [--json]",
  summary:
    "image embeddings per spot (cached on disk by slice, encoder and parameters); --export writes them as <slice>.csv",
  options: {
    ...ENCODER_OPTIONS,
    slices: {
      type: "string",
      help: "comma-separated slices (default: all with an image, or all for file:)",
    },
    cache: {
      type: "string",
      help: "cache folder (default $SPAHGC_CACHE_DIR or .cache/features) or 'none'",
    },
    export: {
      type: "string",
      help:
        "also write each slice's embeddings to DIR/<slice>.csv (spot id, then f<dimension> columns), readable by --encoder file:DIR and pandas",
    },
    columns: {
      type: "string",
      help: "with --export: keep only these dimensions, 0-based, e.g. 74-103,184-203",
    },
    ...ANNDATA_OPTIONS,
    "data-dir": { type: "string", help: "data directory" },
    json: { type: "boolean", help: "JSON output" },
  },
  async run(v) {
    const [name] = v.positionals;
    if (!name) throw new UsageError("missing <dataset>");
    const exportDir = v.str("export");
    const columnSpec = v.str("columns");
    if (columnSpec !== undefined && exportDir === undefined) {
      throw new UsageError("--columns selects what --export writes; give --export DIR too");
    }
    const columnsFor = (dim: number) => {
      try {
        return parseColumns(columnSpec!, dim);
      } catch (err) {
        throw new UsageError(`--columns: ${(err as Error).message}`);
      }
    };
    // Syntax is checked before any image is read; the range against the encoder's dimension
    // once the first slice's embeddings exist (every slice has the same encoder).
    if (columnSpec !== undefined) columnsFor(Number.POSITIVE_INFINITY);
    let columns: number[] | undefined;
    const spec = v.str("encoder") ?? "builtin";
    const ex = parseEncoder(spec, { embeddingKey: v.str("embedding-key") });
    const ds = await loadDataset(name, {
      dataDir: v.str("data-dir"),
      anndata: annDataOptions(v),
      log: new WarningLog(true),
    });
    const wanted = v.list("slices") ??
      ds.slices.filter((s) => s.image || spec.startsWith("file:")).map((s) => s.name);
    const cacheOption = v.str("cache");
    const cache = cacheOption === "none" ? null : cacheOption ?? defaultCacheDir();
    const rows = [];
    try {
      for (const n of wanted) {
        const s = ds.slices.find((x) => x.name === n);
        if (!s) throw new DataError(`slice ${n} not in ${ds.name}`);
        const t0 = performance.now();
        const e = await sliceFeatures(s, ex, cache);
        const seconds = (performance.now() - t0) / 1000;
        let exported: string | undefined;
        if (exportDir !== undefined) {
          if (columnSpec !== undefined) columns ??= columnsFor(e.dim);
          exported = exportEmbeddingsCsv(exportDir, e, s.spots, columns);
        }
        rows.push({
          slice: n,
          spots: e.n,
          dim: e.dim,
          seconds,
          patchesPerSecond: e.n / seconds,
          notes: e.notes,
          ...(exported ? { exported } : {}),
        });
        if (!v.flag("json")) {
          console.log(
            `${n}: ${e.n} × ${e.dim} in ${seconds.toFixed(2)} s (${
              (e.n / seconds).toFixed(0)
            } spots/s)${e.notes.length ? " — " + e.notes.join("; ") : ""}${
              exported ? ` → ${exported}` : ""
            }`,
          );
        }
      }
    } finally {
      await ex.close();
    }
    if (v.flag("json")) {
      json({ encoder: ex.id, params: ex.params, device: ex.device, cache, slices: rows });
    }
    return 0;
  },
};
