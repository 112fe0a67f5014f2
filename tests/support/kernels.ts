/**
 * The kernels `lib/model/wasm_kernels.ts` replaces or adds, the host kernels of `layers.ts` and
 * the fused AdamW step (C kernels on wasm-blas, TypeScript on cpu/wasm), run on the
 * backend named in argv on fixed inputs; prints their outputs (and the device) as JSON, so a test
 * can compare backends, each in its own process.
 */
import { deviceDescription, tf, useBackend } from "../../lib/model/backend.ts";
import { AdamW } from "../../lib/model/optimizer.ts";
import { concatColumns, dense, leaky } from "../../lib/model/layers.ts";
import { dropoutMask, fusedDropout } from "../../lib/model/dropout.ts";
import { Rng } from "../../lib/util/random.ts";

const backend = await useBackend(Deno.args[0] as "cpu");
const rng = new Rng(11);
const rand = (shape: number[]) =>
  tf.tensor(
    Float32Array.from({ length: shape.reduce((a, v) => a * v, 1) }, () => rng.normal()),
    shape,
  );
const out: Record<string, number[]> = {};
const put = async (name: string, t: tf.Tensor) => {
  out[name] = Array.from(await t.data());
  t.dispose();
};

// Matrix products: every transpose combination, odd sizes, batched and broadcast batches.
const a = rand([7, 5]), b = rand([5, 9]), at = rand([5, 7]), bt = rand([9, 5]);
await put("mm", tf.matMul(a, b));
await put("mm_tA", tf.matMul(at, b, true, false));
await put("mm_tB", tf.matMul(a, bt, false, true));
await put("mm_tAtB", tf.matMul(at, bt, true, true));
const a3 = rand([3, 4, 6]), b3 = rand([3, 6, 2]);
await put("bmm", tf.matMul(a3, b3));
await put("bmm_broadcast", tf.matMul(a3, rand([1, 6, 2])));
await put("mm_empty_k", tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 4])));
// Dense layers (one BLAS call with the bias on wasm-blas) and LeakyReLU, with their gradients.
const dW = rand([5, 9]), db = rand([9]);
await put("dense", dense({ W: dW, b: db }, a));
await put("dense_leaky", leaky(dense({ W: dW, b: db }, a)));
const dl = tf.grads((x: tf.Tensor, W: tf.Tensor, bb: tf.Tensor) =>
  tf.sum(tf.mul(leaky(dense({ W, b: bb }, x)), rand([7, 9])))
)([a, dW, db]);
for (const [i, g] of dl.entries()) await put(`dense_leaky_grad_${i}`, g);

// Column concatenation and its gradient (the split back).
const c1 = rand([7, 3]);
await put("concat", concatColumns(a as tf.Tensor2D, c1 as tf.Tensor2D));
const cg = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
  tf.sum(tf.mul(concatColumns(p as tf.Tensor2D, q as tf.Tensor2D), rand([7, 8])))
)([a, c1]);
for (const [i, g] of cg.entries()) await put(`concat_grad_${i}`, g);

// Gather, segment sum and its gradient, identity.
const x = rand([6, 4]);
const idx = tf.tensor1d([5, 0, 0, 3, 2], "int32");
await put("gather", tf.gather(x, idx));
await put("gather2d", tf.gather(x, tf.tensor2d([1, 2, 3, 4], [2, 2], "int32")));
await put("segsum", tf.unsortedSegmentSum(x, tf.tensor1d([2, 0, 2, 1, 0, 2], "int32"), 4));
await put(
  "segsum_grad",
  tf.grad((v: tf.Tensor) =>
    tf.sum(
      tf.mul(tf.unsortedSegmentSum(v, tf.tensor1d([2, 0, 2, 1, 0, 2], "int32"), 4), rand([4, 4])),
    )
  )(x),
);
const c = x.clone();
x.dispose();
await put("clone_outlives_source", c);

// Three AdamW steps on two variables (one never reached by the loss: left untouched).
const w = tf.variable(rand([4, 3]), true, "w"), unused = tf.variable(rand([2]), true, "unused");
const before = Array.from(await unused.data());
const opt = new AdamW(new Map([["w", w], ["unused", unused]]), { lr: 0.1, weightDecay: 0.01 });
const target = rand([4, 3]);
for (let s = 0; s < 3; s++) {
  tf.tidy(() => {
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(tf.sub(w, target))) as tf.Scalar, [
      w,
    ]);
    opt.apply(grads);
  });
}
await put("adamw_w", w);
out.adamw_unused_change = Array.from(await unused.data()).map((v, i) => v - before[i]);

// AdamW where the C kernel updates in place, split across threads (a variable above the 65,536
// entries it takes to start them); and on a variable whose buffer a clone shares, which must be
// updated out of place, the clone keeping its values.
const big = tf.variable(rand([300, 301]), true, "big"), shared = tf.variable(rand([5]), true, "s");
const clone = shared.clone(), cloneBefore = Array.from(await clone.data());
const optBig = new AdamW(new Map([["big", big]]), { lr: 0.05, weightDecay: 0.1 });
const optShared = new AdamW(new Map([["s", shared]]), { lr: 0.05, weightDecay: 0.1 });
const bigTarget = rand([300, 301]);
for (let s = 0; s < 3; s++) {
  tf.tidy(() => {
    const loss = () => tf.add(tf.sum(tf.square(tf.sub(big, bigTarget))), tf.sum(tf.square(shared)));
    const { grads } = tf.variableGrads(loss as () => tf.Scalar, [big, shared]);
    optBig.apply(grads);
    optShared.apply(grads);
  });
}
out.adamw_big_sample = Array.from(await big.data()).filter((_, i) => i % 97 === 0);
await put("adamw_shared", shared);
out.adamw_clone_change = Array.from(await clone.data()).map((v, i) => v - cloneBefore[i]);
// Dropout: the fused kernel's masks against TF.js's own `tf.dropout` (bit for bit expected), for
// SpaHGC's rates and seeds of different lengths, and a few entries of each mask to compare.
const maxDiff = (a: tf.Tensor, b: tf.Tensor) =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
const dropDiffs: number[] = [], dropSample: number[] = [];
for (const [rate, seed] of [[0.2, 7], [0.1, 1517], [0.5, 123456789]]) {
  const x = rand([37, 29]);
  const theirs = tf.dropout(x, rate, undefined, seed), ours = fusedDropout(x, rate, seed);
  const theirMask = tf.dropout(tf.ones([41, 4]), rate, undefined, seed);
  const ourMask = dropoutMask([41, 4], rate, seed);
  dropDiffs.push(maxDiff(theirs, ours), maxDiff(theirMask, ourMask));
  dropSample.push(...Array.from(await ourMask.data()).slice(0, 8));
  for (const t of [x, theirs, ours, theirMask, ourMask]) t.dispose();
}
out.dropout_vs_tfjs = dropDiffs;
out.dropout_mask_sample = dropSample;
console.log(JSON.stringify({ backend, device: deviceDescription(), out }));
