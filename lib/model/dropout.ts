/**
 * Dropout as one host kernel on the CPU backends, with exactly the multiplier TF.js's
 * `tf.dropout(x, rate, undefined, seed)` draws: the same uniform numbers (seedrandom's Alea
 * generator, which TF.js uses for `randomUniform`, seeded with the seed's decimal string) and the
 * same float arithmetic, floor(u + keep) / keep. So runs train on the same masks whichever path
 * made them, and results stay those of the TF.js ops bit for bit (tests/backend_test.ts).
 *
 * Why: `tf.dropout` is a JavaScript loop drawing each number, then four kernels (add, floor, div,
 * mul), and for an attention mask a fifth to fill ones; SpaHGC draws ~20 masks a step. Here the
 * numbers are drawn in the C loop that applies them (`native/kernels.c`, TypeScript elsewhere).
 */
import * as tf from "@tensorflow/tfjs";
import { registerHostKernel, runHostKernel } from "./host_kernels.ts";
import { nativeKernels } from "./native.ts";

/**
 * Alea's state [s0, s1, s2, c] after seeding with `seed` (Baagoe's algorithm as seedrandom 2.4
 * implements it: three `mash(' ')`, then `mash(seed)` subtracted from each, wrapped into [0, 1)).
 */
export function aleaState(seed: string): Float64Array {
  let n = 0xefc8249d;
  const mash = (data: string) => {
    for (let i = 0; i < data.length; i++) {
      n += data.charCodeAt(i);
      let h = 0.02519603282416938 * n;
      n = h >>> 0;
      h -= n;
      h *= n;
      n = h >>> 0;
      h -= n;
      n += h * 0x100000000;
    }
    return (n >>> 0) * 2.3283064365386963e-10;
  };
  const s = [mash(" "), mash(" "), mash(" ")];
  for (let k = 0; k < 3; k++) {
    s[k] -= mash(seed);
    if (s[k] < 0) s[k] += 1;
  }
  return Float64Array.of(s[0], s[1], s[2], 1);
}

/** The multiplier into `mask` (and y = x · mask when x and y are given), as kernels.c does. */
function fillMask(
  state: Float64Array,
  keep: number,
  mask: Float32Array,
  x?: Float32Array,
  y?: Float32Array,
) {
  const c = nativeKernels();
  if (c) {
    c.dropout_mask(mask.length, state, keep, mask, x ?? mask, y ?? mask, x && y ? 1 : 0);
    return;
  }
  let [s0, s1, s2, carry] = state;
  const f = Math.fround, kp = f(keep);
  for (let i = 0; i < mask.length; i++) {
    const t = 2091639 * s0 + carry * 2.3283064365386963e-10;
    s0 = s1;
    s1 = s2;
    carry = t | 0;
    s2 = t - carry;
    mask[i] = f(Math.floor(f(f(s2) + kp)) / kp);
  }
  if (x && y) { for (let i = 0; i < x.length; i++) y[i] = x[i] * mask[i]; }
}

interface MaskAttrs {
  seed: number;
  rate: number;
}

/** TF.js's keep probability: 1 − rate, as the float32 scalar its ops see. */
const keepOf = (rate: number) => Math.fround(1 - rate);

registerHostKernel("DropoutMask", ({ alloc, view }, a: MaskAttrs & { shape: number[] }) => {
  const out = alloc(a.shape, false);
  fillMask(aleaState(String(a.seed)), keepOf(a.rate), view(out));
  return out;
});

registerHostKernel("Dropout", ({ inputs, alloc, view }, a: MaskAttrs) => {
  const y = alloc(inputs.x.shape, false), mask = alloc(inputs.x.shape, false);
  fillMask(aleaState(String(a.seed)), keepOf(a.rate), view(mask), view(inputs.x), view(y));
  return [y, mask];
});

/** The mask `tf.dropout(tf.ones(shape), rate, undefined, seed)` returns, as one kernel. */
export function dropoutMask(shape: number[], rate: number, seed: number): tf.Tensor {
  return runHostKernel("DropoutMask", {}, { seed, rate, shape })[0];
}

/** `tf.dropout(x, rate, undefined, seed)` as one kernel; its gradient is dy · mask. */
export function fusedDropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  return tf.customGrad((xx, save) => {
    const [y, mask] = runHostKernel("Dropout", { x: xx as tf.Tensor }, { seed, rate });
    (save as tf.GradSaveFunc)([mask]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.mul(dy as tf.Tensor, saved[0]),
    };
  })(x);
}
