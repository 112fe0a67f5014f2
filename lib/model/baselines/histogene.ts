/**
 * HisToGene-style (Pang et al., 2021): every spot of a slice is a token — its patch embedded
 * linearly, plus learned embeddings of its x and y grid positions — and a transformer over the
 * whole slice regresses each spot's expression. Kept: spots as tokens, learned 2-D position
 * embeddings indexed by array coordinates, self-attention over the full slice, a linear head,
 * MSE. Changed: the token is the frozen embedding (not raw pixels), and the transformer is
 * small (2 layers, 4 heads, 128-d, against the paper's 8 layers, 16 heads, 1024-d) to train on
 * a laptop CPU; coordinates beyond the embedding table (64 positions) are clamped.
 */
import type { Method } from "../method.ts";
import { tf } from "../backend.ts";
import {
  dense,
  layerNorm,
  ParamStore,
  transformerBlock,
  transformerBlockParams,
} from "../layers.ts";
import { neuralMethod, type NeuralOptions, readAndDispose, type SliceTensors } from "./neural.ts";

export function histogeneMethod(o: NeuralOptions = {}): Method {
  const width = 128, layers = 2, heads = 4, drop = 0.1, positions = 64;
  return neuralMethod(
    "histogene",
    { width, layers, heads, dropout: drop, positions },
    (dim, G, rng) => {
      const store = new ParamStore(rng);
      const patch = store.dense("hg.patch", dim, width);
      // Position tables as dense layers applied to one-hot rows would waste work; a gather from a
      // [positions, width] weight matrix is the embedding lookup.
      const px = store.dense("hg.posx", positions, width).W,
        py = store.dense("hg.posy", positions, width).W;
      const blocks = Array.from(
        { length: layers },
        (_, l) => transformerBlockParams(store, `hg.${l}`, width),
      );
      const norm = store.layerNorm("hg.ln", width);
      const head = store.dense("hg.head", width, G);
      const positionIndex = (s: SliceTensors, axis: number) =>
        tf.tensor1d(
          Int32Array.from(
            { length: s.n },
            (_, i) => Math.min(positions - 1, Math.max(0, Math.round(s.coords[2 * i + axis]))),
          ),
          "int32",
        );
      const forward = (s: SliceTensors, seed?: number) => {
        let h = tf.add(
          dense(patch, s.x),
          tf.add(tf.gather(px, positionIndex(s, 0)), tf.gather(py, positionIndex(s, 1))),
        ) as tf.Tensor2D;
        blocks.forEach((b, l) => {
          h = transformerBlock(b, h, heads, drop, seed === undefined ? undefined : seed + 10 * l);
        });
        return dense(head, layerNorm(norm, h));
      };
      return {
        store,
        loss: (s, seed) => tf.mean(tf.squaredDifference(forward(s, seed), s.y)) as tf.Scalar,
        predict: (s) => readAndDispose(tf.tidy(() => forward(s))),
      };
    },
    o,
  );
}
