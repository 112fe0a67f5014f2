/**
 * NH2ST (Qu et al., MICCAI 2025, arXiv 2506.23827: "Spatially gene expression prediction using
 * dual-scale contrastive learning"), as far as its description allows.
 *
 * Kept from the paper: a query branch for the target spot and a neighbour branch for the spots
 * around it, sharing a pathology encoder and an ST (expression) encoder of two fully connected
 * layers; cross-attention that lets the target's features attend to its neighbourhood;
 * contrastive alignment of pathology and gene embeddings at two scales (the spot, and its
 * neighbourhood); a regression head ("prediction translator") from the fused features.
 *
 * Gaps, written down: the pathology encoder is the project's frozen embedding plus a two-layer
 * MLP (the paper uses a truncated ResNet-18 on 224-px patches); in the paper's query branch the
 * cross-attention pairs pathology with gene features of the same spot, which are unknown for a
 * test spot — here the target attends to its Q = 8 spatial neighbours' pathology features, and
 * gene features enter only through the contrastive terms; the loss weights (MSE + 0.5 × the two
 * InfoNCE terms, temperature 0.1) and widths (256, 4 heads) are ours, the paper's are not stated
 * in the description available.
 */
import type { Method } from "../method.ts";
import { tf } from "../backend.ts";
import {
  clipLoss,
  dense,
  dropout,
  layerNorm,
  neighbourAttention,
  neighbourMean,
  ParamStore,
} from "../layers.ts";
import { neuralMethod, type NeuralOptions, readAndDispose, type SliceTensors } from "./neural.ts";

export function nh2stMethod(o: NeuralOptions = {}): Method {
  const width = 256, heads = 4, drop = 0.1, lambda = 0.5, temperature = 0.1;
  return neuralMethod(
    "nh2st",
    { width, heads, dropout: drop, contrastiveWeight: lambda, temperature },
    (dim, G, rng) => {
      const store = new ParamStore(rng);
      const p1 = store.dense("nh.path1", dim, width), p2 = store.dense("nh.path2", width, width);
      const g1 = store.dense("nh.gene1", G, width), g2 = store.dense("nh.gene2", width, width);
      const q = store.dense("nh.q", width, width),
        k = store.dense("nh.k", width, width),
        v = store.dense("nh.v", width, width);
      const fuseNorm = store.layerNorm("nh.fuse", width);
      const t1 = store.dense("nh.out1", width, width), t2 = store.dense("nh.out2", width, G);
      const pathology = (x: tf.Tensor2D, seed?: number) =>
        dense(p2, dropout(tf.relu(dense(p1, x)), drop, seed));
      const gene = (y: tf.Tensor2D) => dense(g2, tf.relu(dense(g1, y)));
      const fused = (s: SliceTensors, seed?: number) => {
        const h = pathology(s.x, seed);
        // Neighbour branch: the target (query) attends to its spatial neighbours (keys, values).
        const ctx = neighbourAttention(
          dense(q, h),
          dense(k, h),
          dense(v, h),
          s.spatial,
          heads,
          drop,
          seed,
        );
        return { h, z: layerNorm(fuseNorm, tf.add(h, ctx)) };
      };
      const translate = (z: tf.Tensor2D, seed?: number) =>
        dense(t2, dropout(tf.relu(dense(t1, z)), drop, seed));
      return {
        store,
        loss(s, seed) {
          const { h, z } = fused(s, seed);
          const ge = gene(s.y);
          const mse = tf.mean(tf.squaredDifference(translate(z, seed + 3), s.y));
          // Dual-scale alignment: spot (fused pathology ↔ its gene embedding) and neighbourhood
          // (mean pathology of the neighbours ↔ mean gene embedding of the same neighbours).
          const spot = clipLoss(z, ge, temperature);
          const hood = clipLoss(
            neighbourMean(h, s.spatial),
            neighbourMean(ge, s.spatial),
            temperature,
          );
          return tf.add(mse, tf.mul(lambda, tf.add(spot, hood))) as tf.Scalar;
        },
        predict: (s) => readAndDispose(tf.tidy(() => translate(fused(s).z))),
      };
    },
    o,
  );
}
