/**
 * Backends: the kernels registered on tfjs-wasm (gather, segment sum, identity, BLAS matrix
 * products) and the fused AdamW step give the cpu backend's results, and AdamW is PyTorch's.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../lib/mod.ts";
import { denoEval } from "./helpers.ts";
import { loadBlas } from "../lib/model/blas.ts";

type KernelOut = { backend: string; device: string; out: Record<string, number[]> };

function kernelsOn(backend: string): KernelOut {
  const r = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(PROJECT_ROOT, "tests/support/kernels.ts"), backend],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!r.success) throw new Error(`${backend}: ${new TextDecoder().decode(r.stderr)}`);
  return JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").pop()!);
}

/** BLAS is expected wherever the bootstrap could install it; SPAHGC_BLAS=off opts out. */
const blasExpected = Deno.build.os === "linux" && Deno.env.get("SPAHGC_BLAS") !== "off";
/** The C kernels are expected wherever a C compiler is (every Linux machine here); SPAHGC_NATIVE=off opts out. */
const nativeExpected = Deno.build.os === "linux" && Deno.env.get("SPAHGC_NATIVE") !== "off";

Deno.test("system BLAS sgemm equals the schoolbook product for every transpose combination", () => {
  const blas = loadBlas();
  if (!blas) {
    assert.ok(!blasExpected, "no BLAS library found (bootstrap installs libopenblas0-pthread)");
    return;
  }
  assert.match(blas.description, /\S/);
  const m = 5, n = 3, k = 4;
  const A = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i + 1));
  const B = Float32Array.from({ length: k * n }, (_, i) => Math.cos(2 * i));
  const at = (M: Float32Array, rows: number, cols: number, t: boolean) => (r: number, c: number) =>
    t ? M[c * rows + r] : M[r * cols + c];
  for (const tA of [false, true]) {
    for (const tB of [false, true]) {
      // Store the operands transposed where the flag says so.
      const Ast = tA
        ? Float32Array.from({ length: m * k }, (_, i) => A[(i % m) * k + Math.floor(i / m)])
        : A;
      const Bst = tB
        ? Float32Array.from({ length: k * n }, (_, i) => B[(i % k) * n + Math.floor(i / k)])
        : B;
      const C = new Float32Array(m * n).fill(NaN);
      blas.sgemm(tA, tB, m, n, k, Ast, Bst, C);
      const a = at(Ast, m, k, tA), b = at(Bst, k, n, tB);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += a(i, p) * b(p, j);
          assert.ok(Math.abs(C[i * n + j] - s) < 1e-5, `tA=${tA} tB=${tB} C[${i},${j}]`);
        }
      }
    }
  }
});

Deno.test("wasm kernels, BLAS products and the fused AdamW step agree with the cpu backend", () => {
  const ref = kernelsOn("cpu");
  const backends = ["wasm", ...(loadBlas() ? ["wasm-blas"] : [])];
  if (blasExpected) assert.ok(backends.includes("wasm-blas"), "wasm-blas unavailable");
  // webgpu runs the AdamW update as TF.js ops instead of the fused kernel: compared too, where
  // Deno finds an adapter.
  const webgpu = (() => {
    try {
      return kernelsOn("webgpu");
    } catch (e) {
      console.warn(`webgpu unavailable here: ${(e as Error).message.split("\n").pop()}`);
      return undefined;
    }
  })();
  for (const b of [...backends, ...(webgpu ? ["webgpu"] : [])]) {
    const got = b === "webgpu" ? webgpu! : kernelsOn(b);
    assert.equal(got.backend, b);
    if (b === "wasm-blas") {
      assert.match(got.device, /matrix products: /);
      // wasm-blas runs the C host kernels; wasm the TypeScript ones: compared with each other here.
      if (nativeExpected) assert.match(got.device, /other kernels: C \(/);
    }
    // The fused dropout draws TF.js's own masks, exactly.
    assert.deepEqual(got.out.dropout_vs_tfjs, [0, 0, 0, 0, 0, 0], `${b}: dropout masks`);
    for (const [name, values] of Object.entries(ref.out)) {
      const v = got.out[name];
      assert.equal(v.length, values.length, `${b} ${name}: length`);
      const err = v.reduce((m, x, i) => Math.max(m, Math.abs(x - values[i])), 0);
      assert.ok(err < (b === "webgpu" ? 1e-4 : 1e-5), `${b} ${name}: differs from cpu by ${err}`);
    }
  }
  // Values that make the comparison mean something.
  assert.equal(ref.out.mm_empty_k.length, 12);
  assert.ok(ref.out.mm_empty_k.every((x) => x === 0));
  assert.deepEqual(ref.out.adamw_unused_change, [0, 0]);
  assert.deepEqual(ref.out.adamw_clone_change, [0, 0, 0, 0, 0]);
  assert.deepEqual(ref.out.dropout_vs_tfjs, [0, 0, 0, 0, 0, 0]);
  // Masks hold 0 or 1/keep, and both occur.
  const kept = new Set(ref.out.dropout_mask_sample.map((v) => v.toFixed(4)));
  assert.ok(kept.has("0.0000") && kept.has("1.2500"), [...kept].join(","));
  assert.equal(ref.out.adamw_big_sample.length, Math.ceil(300 * 301 / 97));
});

Deno.test("AdamW follows PyTorch's update (decoupled decay, bias-corrected moments, eps 1e-8)", () => {
  // Three steps of torch.optim.AdamW(lr=0.1, weight_decay=0.01) on f(w) = w², written out in
  // double precision from PyTorch's documented algorithm.
  // On a scalar: w0 = 1, target 0, so g = 2w.
  const lr = 0.1, wd = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  let w = 1, m = 0, v = 0;
  for (let t = 1; t <= 3; t++) {
    const g = 2 * w;
    w *= 1 - lr * wd;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    w -= (lr * m / (1 - b1 ** t)) / (Math.sqrt(v / (1 - b2 ** t)) + eps);
  }
  for (const native of nativeExpected ? [false, true] : [false]) {
    const scalar = scalarAdamW(native);
    assert.ok(
      Math.abs(scalar - w) < 1e-6,
      `AdamW (${native ? "C" : "TypeScript"} kernel) ${scalar} vs PyTorch's algorithm ${w}`,
    );
  }
});

function scalarAdamW(native: boolean): number {
  const lib = (f: string) => join(PROJECT_ROOT, "lib/model", f);
  return Number(denoEval(
    `import { tf, useBackend } from "${lib("backend.ts")}";
     import { AdamW } from "${lib("optimizer.ts")}";
     import { nativeStatus, setNativeKernels } from "${lib("native.ts")}";
     await useBackend("cpu");
     if (setNativeKernels(${native}) !== ${native}) throw new Error(nativeStatus);
     const w = tf.variable(tf.scalar(1), true, "w");
     const opt = new AdamW(new Map([["w", w]]), { lr: 0.1, weightDecay: 0.01 });
     for (let t = 0; t < 3; t++) tf.tidy(() => opt.apply(tf.variableGrads(() => tf.square(w), [w]).grads));
     console.log(w.dataSync()[0]);`,
  ));
}
