/**
 * MLP head — STNet-style regression (He et al., Nat. Biomed. Eng. 2020). STNet fine-tunes a
 * DenseNet-121 on the patches with a linear output over the genes; this version keeps the
 * per-spot regression with an MSE loss but reads the frozen embedding (the project's encoder) and
 * puts a two-layer MLP on it (dim → 512 → genes, ReLU, dropout 0.2), since end-to-end CNN
 * fine-tuning is out of scope here.
 */
import type { Method } from "../method.ts";
import { tf } from "../backend.ts";
import { dense, dropout, ParamStore } from "../layers.ts";
import { neuralMethod, type NeuralOptions, readAndDispose } from "./neural.ts";

export function mlpMethod(o: NeuralOptions = {}): Method {
  const hidden = 512, drop = 0.2;
  return neuralMethod("mlp", { hidden, dropout: drop }, (dim, G, rng) => {
    const store = new ParamStore(rng);
    const l1 = store.dense("mlp.l1", dim, hidden), l2 = store.dense("mlp.l2", hidden, G);
    const forward = (x: tf.Tensor2D, seed?: number) =>
      dense(l2, dropout(tf.relu(dense(l1, x)), drop, seed));
    return {
      store,
      loss: (s, seed) => tf.mean(tf.squaredDifference(forward(s.x, seed), s.y)) as tf.Scalar,
      predict: (s) => readAndDispose(tf.tidy(() => forward(s.x))),
    };
  }, o);
}
