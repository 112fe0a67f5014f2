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
  toGraphSlice,
} from "../graph/hetero.ts";
import { sliceMetrics } from "../eval/metrics.ts";
import type { Method, Predictor, PreparedSlice } from "../train/experiment.ts";
import { type BackendName, deviceDescription, tf, useBackend } from "./backend.ts";
import {
  DEFAULT_CONFIG,
  type GraphTensors,
  graphTensors,
  type SpaHGCConfig,
  SpaHGCTrainer,
} from "./spahgc.ts";
import { Rng } from "../util/random.ts";
import { columnStats, standardiseColumns, unstandardiseColumns } from "../util/arrays.ts";

export interface SpaHGCOptions {
  config?: Partial<Omit<SpaHGCConfig, "dim" | "genes">>;
  graph?: Partial<GraphParams>;
  epochs?: number;
  lr?: number;
  weightDecay?: number;
  /**
   * `validation`: best epoch on a held-out training slice; `fixed`: the last epoch;
   * `test-set`: best epoch on the test slice (the released code's protocol — only with
   * `testSetSelection` in the runner, and always labelled).
   */
  selection?: "validation" | "fixed" | "test-set";
  backend?: BackendName;
  /** Folder for per-fold checkpoints (resume); none = no checkpoints. */
  checkpointDir?: string;
  /** Stop after this many epochs in this call (time-sliced runs; a later call resumes). */
  stopAfterEpochs?: number;
  progress?: (line: string) => void;
}

const graphSlice = (p: PreparedSlice): GraphSlice => toGraphSlice(p.slice, p.x, p.y);

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
  const graph: GraphParams = { ...PAPER_GRAPH, ...o.graph };
  const epochs = o.epochs ?? 200;
  const selection = o.selection ?? "validation";
  const params = {
    graph,
    epochs,
    lr: o.lr ?? 1e-4,
    weightDecay: o.weightDecay ?? 1e-4,
    selection,
    config: { ...DEFAULT_CONFIG, ...o.config },
  };
  const log = o.progress ?? ((l: string) => console.error(l));
  return {
    name: "spahgc",
    params,
    async fit(trainIn, dim, G, peek): Promise<Predictor> {
      let train = trainIn;
      const backend = await useBackend(o.backend ?? "auto");
      const cfg: SpaHGCConfig = { ...DEFAULT_CONFIG, ...o.config, dim, genes: G };

      // Targets standardised per gene with statistics of the training slices only (evaluation.md
      // allows min–max or standardisation fitted on training data); predictions are mapped back.
      const ys = columnStats(train.map((t) => t.y), G);
      const scale = (y: Float32Array) => standardiseColumns(y, ys, G);
      const unscale = (y: Float32Array) => unstandardiseColumns(y, ys, G);
      train = train.map((t) => ({ ...t, y: scale(t.y) }));
      const gs = new Map(train.map((t) => [t.name, graphSlice(t)]));
      const sorted = [...train].sort((a, b) => a.name.localeCompare(b.name));
      if (selection === "test-set" && !peek?.length) {
        throw new Error("selection 'test-set' needs the runner's testSetSelection mode");
      }
      // Test-set selection validates on the (first) test slice: all training slices are fitted.
      const peeked = selection === "test-set" ? { ...peek![0], y: scale(peek![0].y) } : undefined;
      if (peeked) gs.set(peeked.name, graphSlice(peeked));
      const val = peeked ??
        (selection === "validation" && train.length >= 3 ? sorted[sorted.length - 1] : undefined);
      const fitSlices = train.filter((t) => t !== val);
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
      const key = createHash("sha256").update(
        JSON.stringify({ train: train.map((t) => t.name), params, dim, G }),
      ).digest("hex").slice(0, 12);
      if (o.checkpointDir) Deno.mkdirSync(o.checkpointDir, { recursive: true });
      const ckpt = o.checkpointDir ? join(o.checkpointDir, `spahgc-${key}.ckpt`) : undefined;
      const bestPath = o.checkpointDir ? join(o.checkpointDir, `spahgc-${key}.best`) : undefined;
      let meta: Checkpoint = { epoch: 0, best: { epoch: 0, pcc: -Infinity }, history: [] };
      let bestState: Awaited<ReturnType<SpaHGCTrainer["state"]>> | undefined;
      if (ckpt && exists(ckpt)) {
        const loaded = loadState(ckpt);
        trainer.restore(loaded.state);
        meta = loaded.meta;
        if (bestPath && exists(bestPath)) bestState = loadState(bestPath).state;
        log(`resumed from ${ckpt} after epoch ${meta.epoch}`);
      }
      const t0 = performance.now();
      const lastEpoch = Math.min(epochs, meta.epoch + (o.stopAfterEpochs ?? Infinity));
      for (let epoch = meta.epoch + 1; epoch <= lastEpoch; epoch++) {
        const te = performance.now();
        const rng = new Rng(cfg.seed * 100003 + epoch); // per-epoch order, identical after a resume
        const order = trainGraphs.map((_, i) => i);
        for (let i = order.length - 1; i > 0; i--) {
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
          if (valPcc > meta.best.pcc) {
            meta.best = { epoch, pcc: valPcc };
            bestState = await trainer.state();
            if (bestPath) saveState(bestPath, meta, bestState);
          }
        }
        const seconds = (performance.now() - te) / 1000;
        meta.history.push({ epoch, loss, valPcc, seconds });
        meta.epoch = epoch;
        if (ckpt) saveState(ckpt, meta, await trainer.state());
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
        epochs,
        bestEpoch: val ? meta.best.epoch : epochs,
        validationSlice: val?.name ?? null,
        testSetSelection: peeked !== undefined,
        parameters: trainer.net.usedParameters(),
        validationPcc: val ? meta.best.pcc : null,
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
          const g = graphTensors(buildGraph(graphSlice(test), bank, graph));
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
