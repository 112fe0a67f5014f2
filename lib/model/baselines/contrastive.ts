/**
 * Bimodal contrastive baselines that predict by retrieval.
 *
 * BLEEP (Xie et al., NeurIPS 2023): an image encoder and an expression encoder projected into one
 * space, trained with a CLIP loss on matched spots; a test spot's expression is the mean of the
 * reference profiles whose expression embeddings are nearest to its image embedding (top 50).
 * Kept: projection heads (linear → GELU → linear, residual, LayerNorm, 256-d), symmetric
 * contrastive loss, retrieval by averaging the top-k. Changed: the image side starts from the
 * frozen embedding instead of a fine-tuned ResNet-50; the loss is the standard InfoNCE with
 * temperature 0.1 rather than BLEEP's similarity-softened targets; one training slice per step.
 *
 * mclSTExp (Min et al., 2024): BLEEP plus a transformer that lets the spots of a slice attend to
 * one another, with a position encoding of their coordinates, before projection. Kept: spots as
 * tokens, self-attention over the whole slice, position encoding, contrastive training and
 * retrieval. Changed: one transformer layer (4 heads, 256-d) on the frozen embeddings, a fixed
 * sinusoidal 2-D encoding of array coordinates instead of learned + sinusoidal.
 */
import type { Method } from "../method.ts";
import { concatRows } from "../../util/arrays.ts";
import { tf } from "../backend.ts";
import {
  clipLoss,
  type Dense,
  dense,
  dropout,
  layerNorm,
  type Norm,
  ParamStore,
  transformerBlock,
  transformerBlockParams,
} from "../layers.ts";
import {
  neuralMethod,
  type NeuralNet,
  type NeuralOptions,
  readAndDispose,
  retrieveExpression,
  type SliceTensors,
} from "./neural.ts";

interface Projection {
  l1: Dense;
  l2: Dense;
  ln: Norm;
}

function projectionParams(store: ParamStore, name: string, inDim: number, width: number) {
  return {
    l1: store.dense(`${name}.l1`, inDim, width),
    l2: store.dense(`${name}.l2`, width, width),
    ln: store.layerNorm(`${name}.ln`, width),
  };
}

/** tanh approximation of GELU (tfjs has no GELU op). */
const gelu = (x: tf.Tensor) =>
  tf.mul(
    tf.mul(x, 0.5),
    tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))),
  );

function project(p: Projection, x: tf.Tensor2D, drop: number, seed?: number): tf.Tensor2D {
  const h = dense(p.l1, x);
  return layerNorm(p.ln, tf.add(dropout(dense(p.l2, gelu(h)), drop, seed), h));
}

/** Sinusoidal 2-D position encoding: half the channels encode x, half y (width divisible by 4). */
export function positionEncoding(coords: Float32Array, width: number): Float32Array {
  const n = coords.length / 2, half = width / 2, out = new Float32Array(n * width);
  for (let i = 0; i < n; i++) {
    for (let axis = 0; axis < 2; axis++) {
      for (let j = 0; j < half / 2; j++) {
        const f = coords[2 * i + axis] / 10000 ** ((2 * j) / half);
        out[i * width + axis * half + 2 * j] = Math.sin(f);
        out[i * width + axis * half + 2 * j + 1] = Math.cos(f);
      }
    }
  }
  return out;
}

interface ContrastiveSettings {
  width: number;
  topK: number;
  temperature: number;
  dropout: number;
  /** mclSTExp: transformer layers over the slice's spots (0 = BLEEP). */
  layers: number;
  heads: number;
}

function contrastiveNet(
  dim: number,
  G: number,
  store: ParamStore,
  c: ContrastiveSettings,
): NeuralNet {
  const img = projectionParams(store, "img", c.layers ? c.width : dim, c.width);
  const expr = projectionParams(store, "expr", G, c.width);
  const inProj = c.layers ? store.dense("tok.in", dim, c.width) : undefined;
  const blocks = Array.from(
    { length: c.layers },
    (_, l) => transformerBlockParams(store, `tok.${l}`, c.width),
  );
  const imageEmbedding = (s: SliceTensors, seed?: number): tf.Tensor2D => {
    if (!inProj) return project(img, s.x, c.dropout, seed);
    let h = tf.add(
      dense(inProj, s.x),
      tf.tensor2d(positionEncoding(s.coords, c.width), [s.n, c.width]),
    ) as tf.Tensor2D;
    blocks.forEach((b, l) => {
      h = transformerBlock(
        b,
        h,
        c.heads,
        c.dropout,
        seed === undefined ? undefined : seed + 10 * l,
      );
    });
    return project(img, h, c.dropout, seed === undefined ? undefined : seed + 99);
  };
  return {
    store,
    loss: (s, seed) =>
      clipLoss(imageEmbedding(s, seed), project(expr, s.y, c.dropout, seed + 7), c.temperature),
    async predict(s, bank) {
      const q = await readAndDispose(tf.tidy(() => imageEmbedding(s)));
      const embs: Float32Array[] = [], ys: Float32Array[] = [];
      for (const b of bank) {
        if (b.name === s.name) continue;
        embs.push(await readAndDispose(tf.tidy(() => project(expr, b.y, 0))));
        ys.push(b.yHost);
      }
      return retrieveExpression(q, concatRows(embs), concatRows(ys), c.width, G, c.topK);
    },
  };
}

/** BLEEP's and mclSTExp's shared settings; `layers` = 0 is BLEEP. */
function contrastiveMethod(
  name: string,
  transformer: { layers: number; heads: number },
  o: NeuralOptions & { topK?: number },
): Method {
  const c: ContrastiveSettings = {
    width: 256,
    topK: o.topK ?? 50,
    temperature: 0.1,
    dropout: 0.1,
    ...transformer,
  };
  return neuralMethod(
    name,
    { ...c },
    (dim, G, rng) => contrastiveNet(dim, G, new ParamStore(rng), c),
    o,
  );
}

export const bleepMethod = (o: NeuralOptions & { topK?: number } = {}): Method =>
  contrastiveMethod("bleep", { layers: 0, heads: 0 }, o);

export const mclstexpMethod = (o: NeuralOptions & { topK?: number } = {}): Method =>
  contrastiveMethod("mclstexp", { layers: 1, heads: 4 }, o);
