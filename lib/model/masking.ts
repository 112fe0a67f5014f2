/**
 * The feature masks of SpaHGC's two views (method.md, "Complementary masking"): each entry of a
 * node's features is masked with probability α (targets) or β (references); view 1 keeps the
 * unmasked entries and view 2 the masked ones (`complementary`), entries of its own draw
 * (`random`), or everything (`none`).
 *
 * The masks come from the trainer's seeded `Rng`, one draw per entry, so a resumed run repeats
 * them. On the CPU backends both masked views are made in one pass over the features by a host
 * kernel: in C on `wasm-blas`, drawing the masks on the way from the same generator stream
 * (drawing them as arrays in JavaScript took 19 ms of a 0.78 s epoch, before their upload and
 * four products a step); on `wasm` and `cpu`, applying `viewMasks`' arrays. Elsewhere the masks
 * are multiplied as TF.js ops. Every path gives the same views, bit for bit (tests/model_test.ts).
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/random.ts";
import { registerHostKernel, runHostKernel } from "./host_kernels.ts";
import { fusedKernelsActive } from "./layers.ts";
import { nativeKernels } from "./native.ts";

export type Masking = "complementary" | "random" | "none";

/** Bernoulli feature masks of the two views: [keep1, keep2] (1 = keep). */
export function viewMasks(
  rng: Rng,
  n: number,
  ratio: number,
  mode: Masking,
): [Float32Array, Float32Array] {
  const m1 = new Float32Array(n), m2 = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    if (mode === "none") {
      m1[k] = m2[k] = 1;
    } else {
      const masked = rng.uniform() < ratio;
      m1[k] = masked ? 0 : 1;
      m2[k] = mode === "complementary" ? (masked ? 1 : 0) : (rng.uniform() < ratio ? 0 : 1);
    }
  }
  return [m1, m2];
}

interface MaskAttrs {
  rng: Rng;
  ratio: number;
  mode: Exclude<Masking, "none">;
}

/**
 * x · keep1 and x · keep2: in C, one pass with the masks drawn on the way; in TypeScript, the
 * masks of `viewMasks` applied in one pass.
 */
registerHostKernel("MaskedViews", ({ inputs, view, alloc }, { rng, ratio, mode }: MaskAttrs) => {
  const { x } = inputs;
  const outs = [alloc(x.shape, false), alloc(x.shape, false)];
  const X = view(x), V1 = view(outs[0]), V2 = view(outs[1]);
  const c = nativeKernels();
  if (c) {
    c.masked_views(X.length, rng.state, ratio, mode === "random" ? 1 : 0, X, V1, V2);
    return outs;
  }
  const [m1, m2] = viewMasks(rng, X.length, ratio, mode);
  for (let k = 0; k < X.length; k++) {
    V1[k] = X[k] * m1[k];
    V2[k] = X[k] * m2[k];
  }
  return outs;
});

/**
 * The two masked views of a node set's features x ([n, F], data: no gradient flows into it),
 * drawing n·F masks (2·n·F for `random`) from `rng`.
 *
 * @example
 * ```ts
 * const rng = new Rng(7);
 * const [view1, view2] = maskedViews(rng, features, 0.8, "complementary");
 * // every entry of `features` is in exactly one of the two views
 * ```
 */
export function maskedViews(
  rng: Rng,
  x: tf.Tensor2D,
  ratio: number,
  mode: Masking,
): [tf.Tensor2D, tf.Tensor2D] {
  if (mode === "none") return [x, x];
  if (fusedKernelsActive() && x.dtype === "float32") {
    const [v1, v2] = runHostKernel("MaskedViews", { x }, { rng, ratio, mode });
    return [v1 as tf.Tensor2D, v2 as tf.Tensor2D];
  }
  const [m1, m2] = viewMasks(rng, x.size, ratio, mode);
  return [
    tf.mul(x, tf.tensor2d(m1, x.shape)) as tf.Tensor2D,
    tf.mul(x, tf.tensor2d(m2, x.shape)) as tf.Tensor2D,
  ];
}
