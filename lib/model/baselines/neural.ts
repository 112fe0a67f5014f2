/**
 * The training machinery every neural baseline shares, so that they differ only in their
 * network: embeddings and targets standardised with training-slice statistics, one AdamW step
 * per training slice (all its spots — slice-level models such as HisToGene need the whole
 * slice), the epoch chosen on a validation slice drawn from the training slices (the same rule
 * as SpaHGC: the last training slice by name, when there are ≥ 3) or a fixed budget, seeded
 * everything, a progress line per epoch, and predictions mapped back to the target scale.
 */
import { cosineTopK, euclideanKnn } from "../../graph/knn.ts";
import { sliceMetrics } from "../../eval/metrics.ts";
import type { Method, Predictor, PreparedSlice } from "../method.ts";
import { EpochSelector, holdOut, type Selection } from "../selection.ts";
import { Rng } from "../../util/random.ts";
import {
  type ColumnStats,
  columnStats,
  standardiseColumns,
  unstandardiseColumns,
} from "../../util/arrays.ts";
import { type BackendName, deviceDescription, tf, useBackend } from "../backend.ts";
import { AdamW } from "../optimizer.ts";
import { disposeNeighbourhood, type Neighbourhood, neighbourhood, ParamStore } from "../layers.ts";

/** One slice on the backend, as a neural baseline sees it. */
export interface SliceTensors {
  name: string;
  n: number;
  /** n × dim embeddings, standardised per dimension with training statistics. */
  x: tf.Tensor2D;
  /** n × G targets, standardised per gene with training statistics. */
  y: tf.Tensor2D;
  /** The same targets on the host (validation metrics, retrieval banks). */
  yHost: Float32Array;
  /** n × 2 array-grid coordinates (row-major). */
  coords: Float32Array;
  /** Each spot's `spatialNeighbours` nearest spots of the same slice (Euclidean, array grid). */
  spatial: Neighbourhood;
}

/** A network of a neural baseline. */
export interface NeuralNet {
  store: ParamStore;
  /** Training loss on one slice (runs inside the gradient tape); `seed` drives dropout. */
  loss(s: SliceTensors, seed: number): tf.Scalar;
  /**
   * Standardised predictions for slice `s`. `bank` lists the slices whose expression the
   * prediction may use (retrieval models): the fit slices while validating, all training
   * slices when predicting a test slice — never the slice being predicted.
   */
  predict(s: SliceTensors, bank: SliceTensors[]): Promise<Float32Array>;
}

/** Reads a tensor built under `tf.tidy` to the host and frees it (async: WebGPU has no sync read). */
export async function readAndDispose(t: tf.Tensor): Promise<Float32Array> {
  const v = await t.data() as Float32Array;
  t.dispose();
  return v;
}

export interface NeuralOptions {
  epochs?: number;
  lr?: number;
  weightDecay?: number;
  /** As SpaHGC's: `validation` (default), `fixed`, or the labelled `test-set`. */
  selection?: Selection;
  seed?: number;
  backend?: BackendName;
  /** Spatial neighbours per spot for models that look around a spot (default 8). */
  spatialNeighbours?: number;
  progress?: (line: string) => void;
}

function toTensors(
  p: PreparedSlice,
  xs: ColumnStats,
  ys: ColumnStats,
  dim: number,
  G: number,
  k: number,
): SliceTensors {
  const coords = new Float32Array(2 * p.n);
  for (let i = 0; i < p.n; i++) {
    coords[2 * i] = p.slice.array.x[i];
    coords[2 * i + 1] = p.slice.array.y[i];
  }
  const yHost = standardiseColumns(p.y, ys, G);
  const kk = Math.min(k, p.n - 1);
  const nn = kk > 0 ? euclideanKnn(coords, coords, 2, kk, { self: true }).index : new Int32Array(0);
  return {
    name: p.name,
    n: p.n,
    x: tf.keep(tf.tensor2d(standardiseColumns(p.x, xs, dim), [p.n, dim])),
    y: tf.keep(tf.tensor2d(yHost, [p.n, G])),
    yHost,
    coords,
    spatial: neighbourhood(nn, kk),
  };
}

function disposeSlice(s: SliceTensors) {
  s.x.dispose();
  s.y.dispose();
  disposeNeighbourhood(s.spatial);
}

/**
 * A `Method` from a network builder: `build(dim, G, seed)` makes the network; everything else
 * (standardisation, validation, AdamW, progress, prediction) is shared.
 */
export function neuralMethod(
  name: string,
  netParams: Record<string, unknown>,
  build: (dim: number, G: number, rng: Rng) => NeuralNet,
  o: NeuralOptions = {},
  defaults: { epochs: number; lr: number } = { epochs: 100, lr: 1e-3 },
): Method {
  const params = {
    ...netParams,
    epochs: o.epochs ?? defaults.epochs,
    lr: o.lr ?? defaults.lr,
    weightDecay: o.weightDecay ?? 1e-4,
    selection: o.selection ?? "validation",
    seed: o.seed ?? 0,
    spatialNeighbours: o.spatialNeighbours ?? 8,
  };
  const log = o.progress ?? ((l: string) => console.error(l));
  return {
    name,
    params,
    async fit(train, dim, G, peek): Promise<Predictor> {
      const backend = await useBackend(o.backend ?? "auto");
      const xs = columnStats(train.map((t) => t.x), dim);
      const ys = columnStats(train.map((t) => t.y), G);
      const slices = train.map((t) => toTensors(t, xs, ys, dim, G, params.spatialNeighbours));
      const held = holdOut(
        slices,
        params.selection,
        params.selection === "test-set" && peek?.length
          ? toTensors(peek[0], xs, ys, dim, G, params.spatialNeighbours)
          : undefined,
      );
      const { fit, validation: val } = held;
      const net = build(dim, G, new Rng(params.seed));
      const optimizer = new AdamW(net.store.vars, {
        lr: params.lr,
        weightDecay: params.weightDecay,
      });
      const vars = [...net.store.vars.values()];
      const selector = new EpochSelector(params.epochs);
      let bestWeights: tf.Tensor[] | undefined;
      const t0 = performance.now();
      let step = 0;
      for (let epoch = 1; epoch <= params.epochs; epoch++) {
        const rng = new Rng(params.seed * 100003 + epoch);
        const order = fit.map((_, i) => i);
        for (let i = order.length - 1; i > 0; i--) {
          const j = rng.int(i + 1);
          [order[i], order[j]] = [order[j], order[i]];
        }
        let loss = 0;
        for (const i of order) {
          const seed = params.seed * 7919 + step++;
          const value = tf.tidy(() => {
            const { value, grads } = tf.variableGrads(() => net.loss(fit[i], seed), vars);
            optimizer.apply(grads);
            return tf.keep(value);
          });
          loss += (await value.data())[0] / order.length;
          value.dispose();
        }
        let valPcc: number | null = null;
        if (val) {
          valPcc = sliceMetrics(await net.predict(val, fit), val.yHost, val.n, G).pcc;
          if (selector.offer(epoch, valPcc)) {
            bestWeights?.forEach((w) => w.dispose());
            bestWeights = vars.map((v) => tf.keep(v.clone()));
          }
        }
        const every = Math.max(1, Math.round(params.epochs / 10));
        if (epoch % every === 0 || epoch === params.epochs) {
          const eta = ((performance.now() - t0) / 1000 / epoch) * (params.epochs - epoch);
          const bar = "█".repeat(Math.round((20 * epoch) / params.epochs)).padEnd(20, "·");
          log(
            `  ${name} [${bar}] epoch ${epoch}/${params.epochs} loss ${loss.toFixed(4)}${
              valPcc === null ? "" : ` val PCC (${val!.name}) ${valPcc.toFixed(4)}`
            } ETA ${eta.toFixed(0)} s`,
          );
        }
      }
      if (bestWeights) {
        vars.forEach((v, i) => v.assign(bestWeights![i]));
        bestWeights.forEach((w) => w.dispose());
      }
      optimizer.dispose();
      if (held.testSet) disposeSlice(val!);
      const seconds = (performance.now() - t0) / 1000;
      return {
        selection: {
          backend,
          device: deviceDescription(),
          ...selector.report(held),
          secondsPerEpoch: seconds / params.epochs,
          parameters: vars.reduce((a, v) => a + v.size, 0),
        },
        async predict(test) {
          const t = toTensors(test, xs, ys, dim, G, params.spatialNeighbours);
          try {
            const z = await net.predict(t, slices);
            return unstandardiseColumns(z, ys, G);
          } finally {
            disposeSlice(t);
          }
        },
        dispose() {
          slices.forEach(disposeSlice);
          net.store.dispose();
        },
      };
    },
  };
}

/**
 * Retrieval of expression through a learned joint space (BLEEP's inference): each query row's
 * `k` most cosine-similar bank rows (the graph's exact retrieval), their expression averaged.
 */
export function retrieveExpression(
  queryEmb: Float32Array,
  bankEmb: Float32Array,
  bankY: Float32Array,
  width: number,
  G: number,
  k: number,
): Float32Array {
  const kk = Math.min(k, bankEmb.length / width);
  const top = cosineTopK(queryEmb, bankEmb, width, kk);
  const nq = queryEmb.length / width;
  const out = new Float32Array(nq * G);
  for (let i = 0; i < nq; i++) {
    for (let a = 0; a < kk; a++) {
      const r = top.index[i * kk + a];
      for (let g = 0; g < G; g++) out[i * G + g] += bankY[r * G + g] / kk;
    }
  }
  return out;
}
