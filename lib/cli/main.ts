/**
 * `spahgc` — the command line for scripted use (`deno task spahgc <command> …`).
 * Every command takes `--help`; commands that report take `--json` for one machine-readable
 * object on standard output (warnings go to standard error).
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { DataError, WarningLog } from "../errors.ts";
import { DATASETS, defaultGeneRecipe, fetchDataset, loadDataset } from "../datasets/registry.ts";
import { PROJECT_ROOT } from "../paths.ts";
import { summarizeDataset, summaryMarkdown } from "../datasets/summary.ts";
import { checkNotebooks, runNotebook } from "../notebook/runner.ts";
import {
  DEFAULT_GENE_PARAMS,
  type GeneRecipe,
  type GeneSelectionParams,
  type HvgFlavor,
  selectGenes,
} from "../preprocess/hvg.ts";
import { defaultCacheDir, parseEncoder, sliceFeatures } from "../features/extractors.ts";
import { exportEmbeddingsCsv, parseColumns } from "../features/export.ts";
import type { SpaHGCOptions } from "../model/spahgc_method.ts";
import type { Ablation } from "../model/spahgc.ts";
import { BACKEND_NAMES } from "../model/backend.ts";
import { type RunConfig, runExperiment, runIdentity } from "../train/run_config.ts";
import { METHOD_NAMES, METHOD_SPECS } from "../model/methods.ts";
import {
  buildBank,
  buildGraph,
  type GraphParams,
  graphStats,
  PAPER_GRAPH,
  toGraphSlice,
} from "../graph/hetero.ts";
import { expressionTarget } from "../preprocess/normalize.ts";
import type { Slice } from "../data/slice.ts";
import type { Split } from "../train/cv.ts";
import { SELECTIONS } from "../model/selection.ts";

import { choiceOption, type Command, json, UsageError } from "./command.ts";
import { ANALYSIS_COMMANDS } from "./analysis.ts";
import { SWEEP_COMMANDS } from "./sweep.ts";

const GENE_OPTIONS = {
  recipe: {
    type: "string",
    help:
      "intersection | batch-ranked | histogene (default: the dataset's own, `spahgc data list`; intersection for a path)",
  },
  flavor: { type: "string", help: "seurat (default) | seurat_v3" },
  "n-top": {
    type: "string",
    help: "HVGs per slice (intersection) or in total (batch-ranked); default 1000",
  },
  "target-sum": {
    type: "string",
    help: "library size for normalisation: a number (default 1e6) or 'median'",
  },
} as const;

function spahgcOptions(v: Record<string, string | boolean | undefined>): SpaHGCOptions {
  const num = (k: string, min: number, max: number) => {
    if (v[k] === undefined) return undefined;
    const x = Number(v[k]);
    if (!(x >= min && x <= max)) {
      throw new UsageError(`--${k} ${v[k]}: expected a number in [${min}, ${max}]`);
    }
    return x;
  };
  const names = {
    "no-ts": "noTS",
    "no-cs": "noCS",
    "no-rs": "noRS",
    "no-cnda": "noCNDA",
    "no-cnap": "noCNAP",
    "shuffle-ref": "shuffleReferenceExpression",
  } as const;
  const ablation: Ablation = {};
  for (const a of v.ablation ? String(v.ablation).split(",") : []) {
    const key = names[a as keyof typeof names];
    if (!key) throw new UsageError(`--ablation ${a}: expected ${Object.keys(names).join(", ")}`);
    ablation[key] = true;
  }
  const config: NonNullable<SpaHGCOptions["config"]> = { ablation };
  const alpha = num("alpha", 0, 1), beta = num("beta", 0, 1), seed = num("seed", 0, 2 ** 31);
  if (alpha !== undefined) config.alpha = alpha;
  if (beta !== undefined) config.beta = beta;
  if (seed !== undefined) config.seed = seed;
  const masking = choiceOption(v, "masking", ["complementary", "random", "none"]);
  if (masking) config.masking = masking;
  const te = choiceOption(v, "target-encoder", ["paper", "released", "ema"]);
  if (te) config.targetEncoder = te;
  const init = choiceOption(v, "init", ["released", "glorot"]);
  if (init) config.init = init;
  const loss = choiceOption(v, "loss", ["paper", "released"]);
  if (loss) config.loss = loss;
  const architecture = choiceOption(v, "architecture", ["paper", "released"]);
  if (architecture) config.architecture = architecture;
  const Q = num("Q", 1, 50), K = num("K", 1, 50);
  if (Q !== undefined && !Number.isInteger(Q)) {
    throw new UsageError(`--Q ${v.Q}: expected an integer`);
  }
  if (K !== undefined && !Number.isInteger(K)) {
    throw new UsageError(`--K ${v.K}: expected an integer`);
  }
  const ts = choiceOption(v, "ts", ["knn", "radius"]);
  const rs = choiceOption(v, "rs", ["cosine", "euclidean"]);
  const features = choiceOption(v, "feature-scale", ["raw", "fold"]);
  const targets = choiceOption(v, "target-scale", ["fold", "section"]);
  const order = choiceOption(v, "graph-order", ["shuffled", "fixed"]);
  return {
    preset: choiceOption(v, "preset", ["paper", "released"]),
    config,
    graph: {
      ...(Q !== undefined ? { Q } : {}),
      ...(K !== undefined ? { K } : {}),
      ...(ts ? { ts } : {}),
      ...(rs ? { rs } : {}),
    },
    pipeline: {
      ...(features ? { features } : {}),
      ...(targets ? { targets } : {}),
      ...(order ? { order } : {}),
    },
    epochs: num("epochs", 1, 100000),
    backend: choiceOption(v, "backend", BACKEND_NAMES),
    selection: choiceOption(v, "selection", SELECTIONS),
  };
}

function geneParams(
  dataset: string,
  v: Record<string, string | boolean | undefined>,
): GeneSelectionParams {
  const recipe = choiceOption<GeneRecipe>(
    v,
    "recipe",
    ["intersection", "batch-ranked", "histogene"],
    defaultGeneRecipe(dataset),
  );
  const flavor = choiceOption<HvgFlavor>(v, "flavor", ["seurat", "seurat_v3"], "seurat");
  const nTop = v["n-top"] ? Number(v["n-top"]) : DEFAULT_GENE_PARAMS.nTop;
  if (!(nTop > 0)) throw new UsageError(`--n-top ${v["n-top"]}: expected a positive number`);
  const ts = v["target-sum"] as string | undefined;
  const targetSum = ts === undefined ? 1e6 : ts === "median" ? "median" : Number(ts);
  if (targetSum !== "median" && !(targetSum > 0)) {
    throw new UsageError(`--target-sum ${ts}: expected a positive number or 'median'`);
  }
  return { recipe, flavor, nTop, targetSum };
}

const COMMANDS: Record<string, Command> = {
  "data info": {
    usage: "spahgc data info <dataset> [--data-dir DIR] [--slices A1,B1] [--json]",
    summary:
      "per slice: patient, spots after the join, genes, total counts, image and labels present",
    options: {
      "data-dir": {
        type: "string",
        help: "data directory (default: $SPAHGC_DATA_DIR, data/, ../shared/data)",
      },
      slices: { type: "string", help: "comma-separated subset of slices" },
      json: { type: "boolean", help: "one JSON object on stdout" },
    },
    async run([name], v) {
      if (!name) throw new UsageError("missing <dataset>");
      const log = new WarningLog(true);
      const ds = await loadDataset(name, {
        dataDir: v["data-dir"] as string | undefined,
        slices: v.slices ? String(v.slices).split(",") : undefined,
        log,
      });
      const sum = summarizeDataset(ds);
      if (v.json) {
        json({
          dataset: sum.dataset,
          slices: sum.slices.map(({ labelSets: _, ...s }) => s),
          warnings: log.warnings.length,
        });
      } else {
        console.log(summaryMarkdown(sum));
        console.log(
          `\nsource: ${ds.provenance.source}\nlocation: ${ds.provenance.location}\nwarnings: ${log.warnings.length}`,
        );
      }
      return 0;
    },
  },
  "data fetch": {
    usage: "spahgc data fetch <dataset> [--data-dir DIR] [--json]",
    summary: "obtain a dataset from its public source into data/ (or says where to put it)",
    options: {
      "data-dir": { type: "string", help: "where to put it (default: data/)" },
      json: { type: "boolean", help: "JSON output" },
    },
    async run([name], v) {
      if (!name) throw new UsageError("missing <dataset>");
      const msg = await fetchDataset(
        name,
        (v["data-dir"] as string | undefined) ?? join(PROJECT_ROOT, "data"),
      );
      v.json ? json({ dataset: name, result: msg }) : console.log(msg);
      return 0;
    },
  },
  "data list": {
    usage: "spahgc data list [--json]",
    summary: "the datasets the registry knows and how to obtain them",
    options: { json: { type: "boolean", help: "JSON output" } },
    run(_p, v) {
      if (v.json) json(DATASETS);
      else {for (const d of DATASETS) {
          console.log(
            `${d.name.padEnd(12)} ${d.description}\n${"".padEnd(12)} genes: ${d.genes}${
              d.cvSlices ? `; studies use ${d.cvSlices.join(", ")}` : ""
            }\n${"".padEnd(12)} source: ${d.source}`,
          );
        }}
      return Promise.resolve(0);
    },
  },
  methods: {
    usage: "spahgc methods [--json]",
    summary: "the methods `train --method` knows: what each is, its paper name and default epochs",
    options: { json: { type: "boolean", help: "JSON output" } },
    run(_p, v) {
      const rows = METHOD_SPECS.map(({ make: _, ...m }) => m);
      if (v.json) json(rows);
      else {
        for (const m of rows) {
          console.log(
            `${m.name.padEnd(10)} ${m.summary}\n${"".padEnd(10)} paper: ${
              m.paperName ?? "(not in the paper)"
            }${m.defaultEpochs ? `, ${m.defaultEpochs} epochs by default` : ""}`,
          );
        }
      }
      return Promise.resolve(0);
    },
  },
  "notebook check": {
    usage: "spahgc notebook check [<notebook.ipynb>…] [--json]",
    summary:
      "type-check notebooks' code (all of notebooks/ by default); errors name the notebook and cell",
    options: { json: { type: "boolean", help: "JSON output" } },
    async run(paths, v) {
      const nbs = paths.length ? paths : [...Deno.readDirSync(join(PROJECT_ROOT, "notebooks"))]
        .filter((e) => e.isFile && e.name.endsWith(".ipynb"))
        .map((e) => join(PROJECT_ROOT, "notebooks", e.name)).sort();
      const checks = await checkNotebooks(nbs);
      if (v.json) json(checks);
      else {
        for (const c of checks) {
          console.log(`${c.ok ? "ok  " : "FAIL"} ${c.path}`);
          for (const e of c.errors) console.log(e.replace(/^/gm, "  "));
        }
      }
      return checks.every((c) => c.ok) ? 0 : 1;
    },
  },
  "notebook run": {
    usage:
      "spahgc notebook run <notebook.ipynb>… [--engine auto|jupyter|deno] [--profile quick|full] [--json]",
    summary: "execute notebooks headlessly; fails on any cell error or missing expected output",
    options: {
      engine: {
        type: "string",
        help: "jupyter (nbconvert + Deno kernel), deno (deno run), auto (default)",
      },
      profile: {
        type: "string",
        help: "parameter profile passed as SPAHGC_PROFILE (default quick)",
      },
      json: { type: "boolean", help: "JSON output" },
    },
    async run(paths, v) {
      if (!paths.length) throw new UsageError("missing <notebook.ipynb>");
      const results = [];
      for (const p of paths) {
        const r = await runNotebook(p, {
          engine: (v.engine as "auto" | "jupyter" | "deno" | undefined) ?? "auto",
          env: {
            SPAHGC_PROFILE: (v.profile as string | undefined) ?? Deno.env.get("SPAHGC_PROFILE") ??
              "quick",
          },
        });
        results.push(r);
        if (!v.json) {
          console.log(
            `${r.ok ? "ok  " : "FAIL"} ${p} (${r.engine}, ${
              r.seconds.toFixed(1)
            } s) → ${r.executed}`,
          );
          for (const f of r.failures) {
            console.log(`  cell ${f.cell}: ${f.reason}\n    ${f.source.split("\n")[0]}`);
          }
          for (const m of r.missing) console.log(`  expected output not found: ${m}`);
          if (r.retried) console.log(`  note: ran twice — ${r.retried}`);
        }
        if (!r.ok) break;
      }
      if (v.json) json(results);
      return results.every((r) => r.ok) ? 0 : 1;
    },
  },
  reproduce: {
    usage:
      "spahgc reproduce [--only NAME[,NAME…]] [--profile quick|full] [--engine auto|jupyter|deno] [--json]",
    summary:
      "execute the paper notebooks headlessly (quick-start first), tables and figures to figures/NAME/; stops at the first failing cell",
    options: {
      only: { type: "string", help: "comma-separated notebook names (default: all in notebooks/)" },
      profile: {
        type: "string",
        help: "quick (default: minutes per notebook) | full (the paper's settings)",
      },
      engine: { type: "string", help: "jupyter | deno | auto (default)" },
      json: { type: "boolean", help: "JSON output" },
    },
    async run(_p, v) {
      const profile = choiceOption(v, "profile", ["quick", "full"], "quick");
      const dir = join(PROJECT_ROOT, "notebooks");
      const all = [...Deno.readDirSync(dir)]
        .filter((e) => e.isFile && e.name.endsWith(".ipynb"))
        .map((e) => e.name.replace(/\.ipynb$/, ""))
        .sort((
          a,
          b,
        ) => (a === "00_quickstart" ? -1 : b === "00_quickstart" ? 1 : a.localeCompare(b)));
      const only = v.only ? String(v.only).split(",") : all;
      const unknown = only.filter((n) => !all.includes(n));
      if (unknown.length) {
        throw new UsageError(`unknown notebook(s) ${unknown.join(", ")} (have: ${all.join(", ")})`);
      }
      return await COMMANDS["notebook run"].run(
        only.map((n) => join(dir, `${n}.ipynb`)),
        { ...v, profile },
      );
    },
  },
  hvg: {
    usage:
      "spahgc hvg <dataset> [--recipe R] [--flavor F] [--n-top N] [--target-sum S] [--data-dir DIR] [--json]",
    summary:
      "highly variable gene selection by a named recipe: per-slice counts, size and the gene list",
    options: {
      ...GENE_OPTIONS,
      "data-dir": { type: "string", help: "data directory" },
      json: { type: "boolean", help: "one JSON object on stdout" },
    },
    async run([name], v) {
      if (!name) throw new UsageError("missing <dataset>");
      const p = geneParams(name, v);
      const ds = await loadDataset(name, {
        dataDir: v["data-dir"] as string | undefined,
        log: new WarningLog(true),
      });
      const t0 = performance.now();
      const sel = selectGenes(ds.slices, p);
      const seconds = (performance.now() - t0) / 1000;
      if (v.json) {
        json({
          recipe: sel.recipe,
          params: sel.params,
          genes: sel.genes,
          perSlice: sel.perSlice,
          notes: sel.notes,
          seconds,
        });
      } else {
        console.log(
          `recipe ${sel.recipe} (${
            JSON.stringify({ ...p, slices: undefined })
          }) on ${ds.name}: ${sel.genes.length} genes in ${seconds.toFixed(2)} s`,
        );
        for (const n of sel.notes) console.log(`  ${n}`);
        for (const s of sel.perSlice) console.log(`  ${s.name}: ${s.hvg} HVGs`);
        console.log(sel.genes.join(" "));
      }
      return 0;
    },
  },
  graph: {
    usage:
      "spahgc graph <dataset> --target SLICE [--slices A,B,…] [--Q 5] [--K 7] [--ts knn|radius] [--rs cosine|euclidean] [--encoder …] [--json]",
    summary:
      "build the heterogeneous graph of one target slice against a bank of the others and print its statistics",
    options: {
      target: { type: "string", help: "the target slice (never in its own bank)" },
      slices: { type: "string", help: "bank slices (default: all other slices with an image)" },
      Q: { type: "string", help: "TS neighbours (default 5)" },
      K: { type: "string", help: "CS references per target (default 7)" },
      ts: { type: "string", help: "knn (paper) | radius (released code)" },
      rs: { type: "string", help: "cosine (paper) | euclidean (released code)" },
      encoder: { type: "string", help: "builtin (default) | onnx:PATH | file:PATH" },
      "data-dir": { type: "string", help: "data directory" },
      json: { type: "boolean", help: "JSON output" },
      ...GENE_OPTIONS,
    },
    async run([name], v) {
      if (!name) throw new UsageError("missing <dataset>");
      if (!v.target) throw new UsageError("missing --target SLICE");
      const ds = await loadDataset(name, {
        dataDir: v["data-dir"] as string | undefined,
        log: new WarningLog(!v.json),
      });
      const target = ds.slices.find((s) => s.name === v.target);
      if (!target) throw new DataError(`slice ${v.target} not in ${ds.name}`);
      const bankNames = v.slices
        ? String(v.slices).split(",")
        : ds.slices.filter((s) => s.image && s !== target).map((s) => s.name);
      const genes = selectGenes(ds.slices, geneParams(name, v)).genes;
      const ex = parseEncoder((v.encoder as string | undefined) ?? "builtin");
      try {
        const prep = async (s: Slice) => {
          const col = new Map(s.genes.map((g, j) => [g, j]));
          const e = await sliceFeatures(s, ex);
          return toGraphSlice(s, e.data, expressionTarget(s.counts, genes.map((g) => col.get(g)!)));
        };
        const bankSlices = [];
        for (const n of bankNames) {
          const s = ds.slices.find((x) => x.name === n);
          if (!s) throw new DataError(`slice ${n} not in ${ds.name}`);
          bankSlices.push(await prep(s));
        }
        const p: GraphParams = {
          ...PAPER_GRAPH,
          ...(v.Q ? { Q: Number(v.Q) } : {}),
          ...(v.K ? { K: Number(v.K) } : {}),
          ...(v.ts ? { ts: v.ts as GraphParams["ts"] } : {}),
          ...(v.rs ? { rs: v.rs as GraphParams["rs"] } : {}),
        };
        const g = buildGraph(
          await prep(target),
          buildBank(bankSlices, [target.name]),
          p,
          new Map(bankSlices.map((b) => [b.name, b.spots])),
        );
        const st = graphStats(g);
        if (v.json) json({ params: p, genes: genes.length, ...st });
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
  },
  features: {
    usage:
      "spahgc features <dataset> [--encoder builtin|onnx:PATH|file:PATH] [--slices A,B] [--cache DIR|none] [--export DIR [--columns 74-103,184-203]] [--data-dir DIR] [--json]",
    summary:
      "image embeddings per spot (cached on disk by slice, encoder and parameters); --export writes them as <slice>.csv",
    options: {
      encoder: { type: "string", help: "builtin (default), onnx:model.onnx, file:DIR_OR_FILE" },
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
      "data-dir": { type: "string", help: "data directory" },
      json: { type: "boolean", help: "JSON output" },
    },
    async run([name], v) {
      if (!name) throw new UsageError("missing <dataset>");
      const exportDir = v.export as string | undefined;
      const columnSpec = v.columns === undefined ? undefined : String(v.columns);
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
      const spec = (v.encoder as string | undefined) ?? "builtin";
      const ex = parseEncoder(spec);
      const ds = await loadDataset(name, {
        dataDir: v["data-dir"] as string | undefined,
        log: new WarningLog(true),
      });
      const wanted = v.slices
        ? String(v.slices).split(",")
        : ds.slices.filter((s) => s.image || spec.startsWith("file:")).map((s) => s.name);
      const cache = v.cache === "none"
        ? null
        : (v.cache as string | undefined) ?? defaultCacheDir();
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
          if (!v.json) {
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
      if (v.json) {
        json({ encoder: ex.id, params: ex.params, device: ex.device, cache, slices: rows });
      }
      return 0;
    },
  },
  train: {
    usage: `spahgc train <dataset> [--method ${
      METHOD_NAMES.join("|")
    }] [--split slice|patient] [--folds A,B] [--slices …] [--encoder …] [--out DIR] [--json]`,
    summary:
      "cross-validated training and evaluation; per-slice PCC/RMSE, predictions as .h5ad under --out (resumable)",
    options: {
      method: {
        type: "string",
        help: `${METHOD_NAMES.join(" | ")} (default spahgc; \`spahgc methods\` describes each)`,
      },
      Q: { type: "string", help: "spahgc: spatial neighbours per target (TS edges), default 5" },
      K: {
        type: "string",
        help:
          "spahgc/eggn: retrieved references per target (CS edges), default 7; knn: K (default: chosen on training slices)",
      },
      alpha: {
        type: "string",
        help: "spahgc: target feature mask ratio (preset paper 0.8, released 0.1)",
      },
      beta: { type: "string", help: "spahgc: reference feature mask ratio, default 0.9" },
      epochs: {
        type: "string",
        help: "spahgc/eggn: training epochs, default 200; neural baselines: default 100",
      },
      backend: {
        type: "string",
        help:
          "trained methods: auto (default: wasm-blas, else wasm) | wasm-blas | wasm | cpu | webgpu | tensorflow",
      },
      seed: { type: "string", help: "trained methods: seed, default 0" },
      selection: {
        type: "string",
        help:
          "trained methods: validation (best epoch on a training slice, default) | fixed | test-set (the released code's test-slice selection; labelled, for leakage studies only)",
      },
      ablation: {
        type: "string",
        help: "spahgc: comma list of no-ts, no-cs, no-rs, no-cnda, no-cnap, shuffle-ref",
      },
      preset: {
        type: "string",
        help:
          "spahgc: released (default, chosen on validation slices: the authors' released code, leak-free) | paper (the paper's text); the options below override it",
      },
      architecture: { type: "string", help: "spahgc: network details, paper | released" },
      ts: {
        type: "string",
        help: "spahgc: TS edges, knn (Q nearest) | radius (√10 on the array, ≤ Q)",
      },
      rs: { type: "string", help: "spahgc: RS edges, cosine (top-K) | euclidean (k = 3)" },
      "feature-scale": {
        type: "string",
        help:
          "spahgc: image features as given (raw) | standardised with the fold's training slices (fold)",
      },
      "target-scale": {
        type: "string",
        help:
          "spahgc: targets standardised over training slices (fold) | min–max within each slice (section)",
      },
      "graph-order": {
        type: "string",
        help: "spahgc: training graphs shuffled each epoch | fixed",
      },
      masking: { type: "string", help: "spahgc: complementary (default) | random | none" },
      "target-encoder": {
        type: "string",
        help: "spahgc: released (a frozen copy, preset released) | paper (live weights) | ema",
      },
      loss: {
        type: "string",
        help: "spahgc: released (weighted, preset released) | paper (unit weights)",
      },
      init: {
        type: "string",
        help:
          "spahgc: starting values, released (default: the authors' modules' initialisation) | glorot",
      },
      split: {
        type: "string",
        help: "slice (leave-one-slice-out, default) | patient (leave-one-patient-out)",
      },
      folds: { type: "string", help: "only these folds (slice or patient names)" },
      slices: { type: "string", help: "slices taking part (default: all with an image)" },
      encoder: { type: "string", help: "builtin (default) | onnx:PATH | file:PATH" },
      "gene-mode": {
        type: "string",
        help: "paper (genes from all slices, default) | strict (training slices only)",
      },
      ...GENE_OPTIONS,
      out: {
        type: "string",
        help:
          "run folder: predictions (.h5ad) and metrics per test slice; reruns resume (default $SPAHGC_RUNS_DIR or runs/, then <method>-<identity>; printed)",
      },
      "keep-checkpoints": {
        type: "boolean",
        help: "keep each fold's training checkpoints (default: deleted once the fold is done)",
      },
      cache: { type: "string", help: "feature cache folder or 'none'" },
      "data-dir": { type: "string", help: "data directory" },
      json: { type: "boolean", help: "one JSON object on stdout" },
    },
    async run([name], v) {
      if (!name) throw new UsageError("missing <dataset>");
      const split = choiceOption<Split>(v, "split", ["slice", "patient"], "slice");
      const geneMode = choiceOption(v, "gene-mode", ["paper", "strict"], "paper");
      // Options first (runExperiment builds the method before it reads anything): a usage
      // error never waits for, or depends on, the data.
      const options = spahgcOptions(v);
      const method = (v.method as string | undefined) ?? "spahgc";
      const config: RunConfig = {
        dataset: name,
        dataDir: v["data-dir"] as string | undefined,
        slices: v.slices ? String(v.slices).split(",") : undefined,
        split,
        folds: v.folds ? String(v.folds).split(",") : undefined,
        genes: geneParams(name, v),
        geneMode,
        encoder: (v.encoder as string | undefined) ?? "builtin",
        method,
        options,
      };
      // Results are always kept: without --out, in a folder named by the run's identity (the
      // same command resumes it; any other setting or code gets another).
      const out = (v.out as string | undefined) ??
        join(Deno.env.get("SPAHGC_RUNS_DIR") ?? "runs", `${method}-${runIdentity(config)}`);
      console.error(`run folder: ${out}`);
      const report = await runExperiment(config, {
        out,
        cacheDir: v.cache === "none" ? null : (v.cache as string | undefined),
        warnings: new WarningLog(!v.json),
        keepCheckpoints: v["keep-checkpoints"] === true,
      });
      if (v.json) json(report);
      else {
        console.log(
          `${report.method}, ${report.split} split, ${report.folds.length} test slices, encoder ${report.encoder}, target ${report.target}`,
        );
        console.log(
          "| test | PCC | RMSE | top-50 PCC | genes excluded | s |\n|---|---:|---:|---:|---:|---:|",
        );
        for (const f of report.folds) {
          console.log(
            `| ${f.test} | ${f.pcc.toFixed(4)} | ${f.rmse.toFixed(4)} | ${
              f.top50.toFixed(4)
            } | ${f.genesExcluded} | ${f.seconds} |`,
          );
        }
        console.log(
          `mean PCC ${report.mean.pcc.toFixed(4)} ± ${report.std.pcc.toFixed(4)}, RMSE ${
            report.mean.rmse.toFixed(4)
          } ± ${report.std.rmse.toFixed(4)} (per slice, not pooled)`,
        );
        for (const n of report.notes) console.log(`note: ${n}`);
      }
      return 0;
    },
  },
  ...ANALYSIS_COMMANDS,
  ...SWEEP_COMMANDS,
  demo: {
    usage: "spahgc demo [--engine auto|jupyter|deno]",
    summary: "the quick-start on the embedded synthetic data; outputs under figures/00_quickstart/",
    options: { engine: { type: "string", help: "notebook engine (default auto)" } },
    run(_p, v) {
      return COMMANDS["notebook run"].run(
        [join(PROJECT_ROOT, "notebooks", "00_quickstart.ipynb")],
        v,
      );
    },
  },
};

function help(): string {
  return [
    "spahgc — SpaHGC spatial gene expression inference (Deno/TypeScript)",
    "",
    "usage: deno task spahgc <command> [options]   (each command: --help)",
    "",
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(14)} ${c.summary}`),
  ].join("\n");
}

function commandHelp(c: Command): string {
  return [
    `usage: ${c.usage}`,
    "",
    c.summary,
    "",
    ...Object.entries(c.options).map(([k, o]) => `  --${k.padEnd(12)} ${o.help}`),
    `  --${"help".padEnd(12)} this help`,
  ].join("\n");
}

export async function main(args: string[]): Promise<number> {
  const key = [args.slice(0, 2).join(" "), args[0]].find((k) => k in COMMANDS);
  if (!key) {
    if (args.length === 0 || args[0] === "--help" || args[0] === "-h" || args[0] === "help") {
      console.log(help());
      return 0;
    }
    console.error(`unknown command '${args.slice(0, 2).join(" ")}'\n\n${help()}`);
    return 2;
  }
  const c = COMMANDS[key];
  const rest = args.slice(key.split(" ").length);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...c.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${commandHelp(c)}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(commandHelp(c));
    return 0;
  }
  try {
    return await c.run(
      parsed.positionals,
      parsed.values as Record<string, string | boolean | undefined>,
    );
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n\n${commandHelp(c)}`);
      return 2;
    }
    if (e instanceof DataError) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
