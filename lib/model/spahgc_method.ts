/**
 * SpaHGC behind the shared `Method` interface: builds each fold's graphs (every training slice
 * as a target against a bank of the other training slices; never the test slice), trains with
 * one AdamW step per graph, selects the epoch on a validation slice drawn from the training
 * slices (or takes a fixed epoch budget), checkpoints every epoch (an interrupted fold resumes),
 * and predicts a test slice from a bank of all training slices.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { exists, writeFileAtomic } from "../io/files.ts";
import {
  buildBank,
  buildGraph,
  type GraphParams,
  type GraphSlice,
  PAPER_GRAPH,
  RELEASED_GRAPH,
  toGraphSlice,
} from "../graph/hetero.ts";
import { sliceMetrics } from "../eval/metrics.ts";
import type { Method, Predictor, PreparedSlice } from "./method.ts";
import { type BackendName, deviceDescription, tf, useBackend } from "./backend.ts";
import {
  DEFAULT_CONFIG,
  type GraphTensors,
  graphTensors,
  type SpaHGCConfig,
  SpaHGCTrainer,
} from "./spahgc.ts";
import { EpochSelector, holdOut, type Selection } from "./selection.ts";
import { MinMaxScaler } from "../preprocess/normalize.ts";
import { Rng } from "../util/random.ts";
import { codeVersion, digestOf } from "../provenance/identity.ts";
import { columnStats, standardiseColumns, unstandardiseColumns } from "../util/arrays.ts";

/**
 * How the pipeline around the network prepares its inputs. `paper` is this project's first
 * reading of the paper; `released` is what the authors' released code does (`dataset.py`,
 * `HESTGraph.py`, `main.py`), each a named switch so its effect can be measured alone.
 */
export interface SpaHGCPipeline {
  /**
   * Image features given to the graph (retrieval and network input): `raw` as the encoder wrote
   * them, or `fold` — standardised per dimension with the fold's training slices' statistics, as
   * the released pipeline feeds its networks (and cosine retrieval then compares shapes, not the
   * largest raw dimensions).
   */
  features: "raw" | "fold";
  /**
   * Expression targets (and the reference expression in the graph): `fold` — standardised per
   * gene with pooled training-slice statistics; `section` — min–max to [0, 1] per gene within
   * each slice, as the released `dataset.py` (each reference slice with its own statistics, the
   * leak-free form). Predictions are mapped back to the data's scale with training statistics
   * only (`section`: the training slices' mean per-gene minimum and maximum).
   */
  targets: "fold" | "section";
  /** Order of the training graphs in an epoch: `shuffled` each epoch, or `fixed` (released). */
  order: "shuffled" | "fixed";
}

export const PAPER_PIPELINE: SpaHGCPipeline = {
  features: "raw",
  targets: "fold",
  order: "shuffled",
};
export const RELEASED_PIPELINE: SpaHGCPipeline = {
  features: "fold",
  targets: "section",
  order: "fixed",
};

export interface SpaHGCOptions {
  /** The configuration the other fields override (default `paper`). */
  preset?: SpaHGCPresetName;
  config?: Partial<Omit<SpaHGCConfig, "dim" | "genes">>;
  graph?: Partial<GraphParams>;
  pipeline?: Partial<SpaHGCPipeline>;
  epochs?: number;
  lr?: number;
  weightDecay?: number;
  /**
   * `validation`: best epoch on a held-out training slice; `fixed`: the last epoch;
   * `test-set`: best epoch on the test slice (the released code's protocol — only with
   * `testSetSelection` in the runner, and always labelled).
   */
  selection?: Selection;
  backend?: BackendName;
  /** Folder for per-fold checkpoints (resume); none = no checkpoints. */
  checkpointDir?: string;
  /**
   * Seconds of training between two checkpoints (default 60; 0 = after every epoch). The last
   * epoch of a call is always saved, so a finished or time-sliced fold loses nothing; a killed
   * one repeats at most this much. A checkpoint is the weights, the optimiser's moments and the
   * frozen target encoder, 89 MB at the default size: writing it after every epoch cost
   * 0.2–0.4 s against a 0.65 s epoch here.
   */
  checkpointEverySeconds?: number;
  /** Stop after this many epochs in this call (time-sliced runs; a later call resumes). */
  stopAfterEpochs?: number;
  progress?: (line: string) => void;
}

const graphSlice = (p: PreparedSlice): GraphSlice => toGraphSlice(p.slice, p.x, p.y);

/** A complete SpaHGC configuration: network, graph and pipeline. */
export interface SpaHGCPreset {
  config: Omit<SpaHGCConfig, "dim" | "genes">;
  graph: GraphParams;
  pipeline: SpaHGCPipeline;
}

/**
 * Named configurations. `paper`: the paper's text (α 0.8, β 0.9, unit loss weights, the same
 * weights as stop-gradient target, Q-nearest TS edges, cosine RS edges). `released`: the
 * authors' released code (`model.py` class defaults α 0.1 / β 0.9 — `main.py` does not pass its
 * flags on —, loss weights 1 / 0.5 / 0.2 / 0.1, a frozen copy at initialisation as target,
 * radius TS and Euclidean k = 3 RS edges, its network details, per-fold standardised features,
 * per-slice min–max targets, fixed graph order), with the reference expression scaled by its own
 * slice rather than the test slice (the leak-free form).
 */
export const SPAHGC_PRESETS: Record<"paper" | "released", SpaHGCPreset> = {
  paper: { config: DEFAULT_CONFIG, graph: PAPER_GRAPH, pipeline: PAPER_PIPELINE },
  released: {
    config: {
      ...DEFAULT_CONFIG,
      alpha: 0.1,
      beta: 0.9,
      loss: "released",
      targetEncoder: "released",
      architecture: "released",
    },
    graph: RELEASED_GRAPH,
    pipeline: RELEASED_PIPELINE,
  },
};
export type SpaHGCPresetName = keyof typeof SPAHGC_PRESETS;

/**
 * The preset SpaHGC runs with when none is asked for. Chosen without the test slices: of the
 * `paper` and `released` presets and `released` with each of its eight choices turned back to the
 * paper's, `released` has the best mean validation PCC (a training slice held out in every fold,
 * 50 epochs; docs/results/default-selection.md, `deno task fidelity --select …`).
 */
export const SPAHGC_DEFAULT_PRESET: SpaHGCPresetName = "released";

interface Checkpoint {
  epoch: number;
  best: { epoch: number; pcc: number };
  history: { epoch: number; loss: number; valPcc: number | null; seconds: number }[];
}

function saveState(
  path: string,
  meta: unknown,
  s: { names: string[]; shapes: number[][]; data: Float32Array[]; step: number },
) {
  const header = new TextEncoder().encode(
    JSON.stringify({
      meta,
      names: s.names,
      shapes: s.shapes,
      step: s.step,
      lengths: s.data.map((d) => d.length),
    }),
  );
  const total = s.data.reduce((a, d) => a + d.length, 0);
  const buf = new Uint8Array(4 + header.length + ((4 - (header.length % 4)) % 4) + total * 4);
  new DataView(buf.buffer).setUint32(0, header.length, true);
  buf.set(header, 4);
  let off = 4 + header.length + ((4 - (header.length % 4)) % 4);
  for (const d of s.data) {
    buf.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), off);
    off += d.byteLength;
  }
  writeFileAtomic(path, buf);
}

function loadState(path: string) {
  const buf = Deno.readFileSync(path);
  const hl = new DataView(buf.buffer, buf.byteOffset).getUint32(0, true);
  const h = JSON.parse(new TextDecoder().decode(buf.subarray(4, 4 + hl)));
  let off = 4 + hl + ((4 - (hl % 4)) % 4);
  const data = (h.lengths as number[]).map((n) => {
    const a = new Float32Array(
      buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + n * 4),
    );
    off += n * 4;
    return a;
  });
  return {
    meta: h.meta as Checkpoint,
    state: { names: h.names, shapes: h.shapes, data, step: h.step },
  };
}

export function spahgcMethod(o: SpaHGCOptions = {}): Method {
  const preset = SPAHGC_PRESETS[o.preset ?? SPAHGC_DEFAULT_PRESET];
  const graph: GraphParams = { ...preset.graph, ...o.graph };
  const pipeline: SpaHGCPipeline = { ...preset.pipeline, ...o.pipeline };
  const epochs = o.epochs ?? 200;
  const selection = o.selection ?? "validation";
  const params = {
    preset: o.preset ?? SPAHGC_DEFAULT_PRESET,
    graph,
    pipeline,
    epochs,
    lr: o.lr ?? 1e-4,
    weightDecay: o.weightDecay ?? 1e-4,
    selection,
    config: { ...preset.config, ...o.config },
  };
  const log = o.progress ?? ((l: string) => console.error(l));
  return {
    name: "spahgc",
    params,
    async fit(trainIn, dim, G, peek): Promise<Predictor> {
      let train = trainIn;
      const backend = await useBackend(o.backend ?? "auto");
      const cfg: SpaHGCConfig = { ...params.config, dim, genes: G };

      // Features and targets are rescaled with statistics of the training slices only
      // (evaluation.md allows min–max or standardisation fitted on training data, or on the slice
      // itself for min–max); predictions are mapped back with training statistics.
      const xs = pipeline.features === "fold" ? columnStats(train.map((t) => t.x), dim) : undefined;
      const scaleX = (x: Float32Array) => (xs ? standardiseColumns(x, xs, dim) : x);
      let scale: (y: Float32Array) => Float32Array;
      let unscale: (y: Float32Array) => Float32Array;
      if (pipeline.targets === "section") {
        // A prediction is on a per-slice [0, 1] scale; the test slice's own range is unknown
        // (using it would leak), so the training slices' mean range maps it back. Per-gene
        // Pearson r does not depend on this map; RMSE does.
        const ranges = train.map((t) => MinMaxScaler.fit([t.y], G));
        const lo = new Float64Array(G), hi = new Float64Array(G);
        for (const r of ranges) {
          for (let j = 0; j < G; j++) {
            lo[j] += r.min[j] / ranges.length;
            hi[j] += r.max[j] / ranges.length;
          }
        }
        // Each slice by its own range (the released `dataset.py`; its 1e-8 guard against a
        // constant gene is the scaler's "constant → 0").
        scale = (y) => MinMaxScaler.fit([y], G).transform(y);
        unscale = (y) => Float32Array.from(y, (v, k) => lo[k % G] + v * (hi[k % G] - lo[k % G]));
      } else {
        const ys = columnStats(train.map((t) => t.y), G);
        scale = (y) => standardiseColumns(y, ys, G);
        unscale = (y) => unstandardiseColumns(y, ys, G);
      }
      train = train.map((t) => ({ ...t, x: scaleX(t.x), y: scale(t.y) }));
      const gs = new Map(train.map((t) => [t.name, graphSlice(t)]));
      // Test-set selection validates on the (first) test slice: all training slices are fitted.
      const held = holdOut(
        train,
        selection,
        selection === "test-set" && peek?.length
          ? { ...peek[0], x: scaleX(peek[0].x), y: scale(peek[0].y) }
          : undefined,
      );
      const val = held.validation;
      if (held.testSet) gs.set(val!.name, graphSlice(val!));
      const fitSlices = held.fit;
      const shuffleSeed = cfg.ablation.shuffleReferenceExpression ? cfg.seed + 99 : undefined;
      const excludeFor = (target: string) => [target, ...(val ? [val.name] : [])];
      // A single training slice has no other slice to retrieve from: its bank is itself, same spot
      // excluded (training only, and said so in the report).
      const selfBank = fitSlices.length === 1;
      const trainGraphs = fitSlices.map((t) => {
        const bank = selfBank ? buildBank([gs.get(t.name)!], val ? [val.name] : []) : buildBank(
          fitSlices.filter((s) => s !== t).map((s) => gs.get(s.name)!),
          excludeFor(t.name),
        );
        return {
          name: t.name,
          g: graphTensors(
            buildGraph(gs.get(t.name)!, bank, graph, undefined, { selfBank }),
            shuffleSeed,
          ),
          y: tf.keep(tf.tensor2d(t.y, [t.n, G])),
        };
      });
      const valGraph: GraphTensors | undefined = val
        ? graphTensors(
          buildGraph(
            gs.get(val.name)!,
            buildBank(fitSlices.map((s) => gs.get(s.name)!), [val.name]),
            graph,
          ),
          shuffleSeed,
        )
        : undefined;
      const trainer = new SpaHGCTrainer(cfg, params.lr, params.weightDecay);
      // A checkpoint resumes only the same training: configuration, code and the training data.
      const key = createHash("sha256").update(
        JSON.stringify({
          train: train.map((t) => t.name),
          params,
          dim,
          G,
          code: codeVersion(),
          data: digestOf(...train.flatMap((t) => [t.name, t.x, t.y])),
        }),
      ).digest("hex").slice(0, 12);
      if (o.checkpointDir) Deno.mkdirSync(o.checkpointDir, { recursive: true });
      const ckpt = o.checkpointDir ? join(o.checkpointDir, `spahgc-${key}.ckpt`) : undefined;
      const bestPath = o.checkpointDir ? join(o.checkpointDir, `spahgc-${key}.best`) : undefined;
      let meta: Checkpoint = { epoch: 0, best: { epoch: 0, pcc: -Infinity }, history: [] };
      // The best epoch's weights (what prediction needs, not the optimiser's state), held in
      // memory and written beside each checkpoint whose `best` names them.
      let bestState: Awaited<ReturnType<SpaHGCTrainer["weights"]>> | undefined;
      let bestUnsaved = false;
      if (ckpt && exists(ckpt)) {
        const loaded = loadState(ckpt);
        trainer.restore(loaded.state);
        meta = loaded.meta;
        if (bestPath && exists(bestPath)) bestState = loadState(bestPath).state;
        log(`resumed from ${ckpt} after epoch ${meta.epoch}`);
      }
      const selector = new EpochSelector(epochs, meta.best);
      const t0 = performance.now();
      const saveEvery = 1000 * (o.checkpointEverySeconds ?? 60);
      let savedAt = t0;
      const lastEpoch = Math.min(epochs, meta.epoch + (o.stopAfterEpochs ?? Infinity));
      for (let epoch = meta.epoch + 1; epoch <= lastEpoch; epoch++) {
        const te = performance.now();
        const rng = new Rng(cfg.seed * 100003 + epoch); // per-epoch order, identical after a resume
        const order = trainGraphs.map((_, i) => i);
        for (let i = order.length - 1; pipeline.order === "shuffled" && i > 0; i--) {
          const j = rng.int(i + 1);
          [order[i], order[j]] = [order[j], order[i]];
        }
        let loss = 0;
        for (const i of order) {
          loss += (await trainer.trainStep(trainGraphs[i].g, trainGraphs[i].y)).total /
            order.length;
        }
        let valPcc: number | null = null;
        if (valGraph && val) {
          valPcc = sliceMetrics(await trainer.net.predict(valGraph), val.y, val.n, G).pcc;
          if (selector.offer(epoch, valPcc)) {
            meta.best = selector.best;
            bestState = await trainer.weights();
            bestUnsaved = true;
          }
        }
        const seconds = (performance.now() - te) / 1000;
        meta.history.push({ epoch, loss, valPcc, seconds });
        meta.epoch = epoch;
        if (ckpt && (epoch === lastEpoch || performance.now() - savedAt >= saveEvery)) {
          // The best weights first: a checkpoint on disk never names a best epoch whose weights
          // are not there (a crash between the two writes replays from the older checkpoint).
          if (bestPath && bestState && bestUnsaved) saveState(bestPath, meta, bestState);
          bestUnsaved = false;
          saveState(ckpt, meta, await trainer.state());
          savedAt = performance.now();
        }
        const done = epoch - (meta.history[0]?.epoch ?? 1) + 1;
        const eta = ((performance.now() - t0) / 1000 / done) * (epochs - epoch);
        const bar = "█".repeat(Math.round((20 * epoch) / epochs)).padEnd(20, "·");
        log(
          `  [${bar}] epoch ${epoch}/${epochs} loss ${loss.toFixed(4)}${
            valPcc === null ? "" : ` val PCC (${val!.name}) ${valPcc.toFixed(4)}`
          } ${seconds.toFixed(1)} s/epoch, ETA ${eta.toFixed(0)} s`,
        );
      }
      if (bestState) trainer.restore(bestState);
      for (const t of trainGraphs) {
        t.g.dispose();
        t.y.dispose();
      }
      valGraph?.dispose();
      const allBankSlices = train.map((t) => gs.get(t.name)!);
      const selectionInfo = {
        backend,
        device: deviceDescription(),
        ...selector.report(held),
        parameters: trainer.net.usedParameters(),
        secondsPerEpoch: meta.history.length
          ? meta.history.reduce((a, h) => a + h.seconds, 0) / meta.history.length
          : null,
        note: selfBank
          ? "one training slice: its training graph retrieves from itself (same spot excluded)"
          : undefined,
      };
      return {
        selection: selectionInfo,
        async predict(test) {
          const bank = buildBank(allBankSlices.filter((s) => s.name !== test.name), [test.name]);
          const g = graphTensors(
            buildGraph(graphSlice({ ...test, x: scaleX(test.x) }), bank, graph),
          );
          try {
            return unscale(await trainer.net.predict(g));
          } finally {
            g.dispose();
          }
        },
        dispose() {
          trainer.dispose();
        },
      };
    },
  };
}
