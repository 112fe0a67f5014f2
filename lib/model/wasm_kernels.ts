/**
 * Kernels registered on TensorFlow.js's wasm backend, replacing or adding to its own. All work
 * on views of the backend's heap (`typedArrayFromHeap`), so nothing is copied in or out.
 *
 * - `UnsortedSegmentSum` is missing from tfjs-backend-wasm 4.22, and the gradient of `gather`
 *   needs it. A scatter-add is memory-bound: the JS loop is as fast as a compiled one here.
 * - `GatherV2`: tfjs 4.22's wasm kernel copies element by element (1.7 s of a 1.9 s forward pass
 *   measured here); gathering whole rows with typed-array copies takes milliseconds.
 * - `Identity` shares the input's buffer (as the cpu backend does; tensors are immutable and a
 *   variable's `assign` swaps buffers rather than writing into them). tfjs-wasm copies, and
 *   `customGrad` clones every tensor it saves for the backward pass: 0.09 s of a 1.5 s epoch.
 * - `Affine` (added): x·W + b in one BLAS call (C starts as the broadcast bias, β = 1), so a
 *   dense layer's forward pass is one kernel and one pass over its output instead of two.
 * - `BatchMatMul`: delegated to the system BLAS when `setBlasMatMul(true)` and one was found
 *   (`blas.ts` says why); otherwise tfjs's own XNNPACK kernel runs, except for an empty inner
 *   dimension, where XNNPACK returns uninitialised memory instead of zeros.
 */
import * as tf from "@tensorflow/tfjs";
import { type Blas, loadBlas } from "./blas.ts";

// deno-lint-ignore no-explicit-any
type WasmBackend = any;
type Info = { dataId: object; shape: number[]; dtype: tf.DataType };

const heap = (b: WasmBackend, t: Info) => b.typedArrayFromHeap(t) as Float32Array | Int32Array;
const size = (shape: number[]) => shape.reduce((a, v) => a * v, 1);

let registered = false;
let blas: Blas | undefined;

/** Routes the wasm backend's matrix products through BLAS (true) or XNNPACK (false). */
export function setBlasMatMul(on: boolean): Blas | undefined {
  blas = on ? loadBlas() : undefined;
  return blas;
}

/** The BLAS behind the wasm backend's matrix products, if any. */
export function blasMatMul(): Blas | undefined {
  return blas;
}

export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;

  tf.registerKernel({
    kernelName: "UnsortedSegmentSum",
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as unknown as { x: Info; segmentIds: Info };
      const { numSegments } = attrs as unknown as { numSegments: number };
      if (x.dtype !== "float32") throw new Error(`UnsortedSegmentSum on wasm: float32 only`);
      const inner = size(x.shape.slice(segmentIds.shape.length));
      const shape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
      const out = (backend as WasmBackend).makeOutput(shape, "float32");
      // Views after allocating: allocation may grow (and detach) the heap.
      const o = heap(backend, out), xv = heap(backend, x), ids = heap(backend, segmentIds);
      o.fill(0);
      for (let i = 0; i < ids.length; i++) {
        const s = ids[i];
        if (s < 0 || s >= numSegments) continue;
        const oo = s * inner, p = i * inner;
        for (let j = 0; j < inner; j++) o[oo + j] += xv[p + j];
      }
      return out;
    },
  });

  tf.unregisterKernel("GatherV2", "wasm");
  tf.registerKernel({
    kernelName: "GatherV2",
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, indices } = inputs as unknown as { x: Info; indices: Info };
      const { axis, batchDims } = attrs as unknown as { axis: number; batchDims: number };
      if (axis !== 0 || (batchDims ?? 0) !== 0 || (x.dtype !== "float32" && x.dtype !== "int32")) {
        throw new Error(
          `GatherV2 on wasm supports axis 0 on float32/int32 only (axis ${axis}, ${x.dtype})`,
        );
      }
      const row = size(x.shape.slice(1));
      const shape = [...indices.shape, ...x.shape.slice(1)];
      const out = (backend as WasmBackend).makeOutput(shape, x.dtype);
      const o = heap(backend, out), xv = heap(backend, x), idx = heap(backend, indices);
      for (let i = 0; i < idx.length; i++) {
        const r = idx[i];
        if (r < 0 || r >= x.shape[0]) {
          throw new Error(`gather index ${r} out of range [0, ${x.shape[0]})`);
        }
        o.set(xv.subarray(r * row, (r + 1) * row), i * row);
      }
      return out;
    },
  });

  tf.unregisterKernel("Identity", "wasm");
  tf.registerKernel({
    kernelName: "Identity",
    backendName: "wasm",
    kernelFunc: ({ inputs, backend }) => {
      const { x } = inputs as unknown as { x: Info };
      if (x.dtype === "string") throw new Error("Identity on wasm: string tensors unsupported");
      (backend as WasmBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });

  const xnnpack = tf.getKernel("BatchMatMul", "wasm")!;
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({
    ...xnnpack,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as unknown as { a: Info; b: Info };
      const { transposeA, transposeB } = args.attrs as unknown as {
        transposeA: boolean;
        transposeB: boolean;
      };
      const ra = a.shape.length, rb = b.shape.length;
      const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
      const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
      const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
      const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
      if (k !== kb) {
        throw new Error(`matMul: inner dimensions differ (${a.shape} by ${b.shape})`);
      }
      const outer = tf.broadcast_util.assertAndGetBroadcastShape(
        a.shape.slice(0, -2),
        b.shape.slice(0, -2),
      );
      if (k === 0) {
        // XNNPACK leaves the output uninitialised when the inner dimension is empty.
        const out = (args.backend as WasmBackend).makeOutput([...outer, m, n], a.dtype);
        heap(args.backend, out).fill(0);
        return out;
      }
      if (!blas || a.dtype !== "float32" || b.dtype !== "float32") return xnnpack.kernelFunc(args);
      const batchA = size(a.shape.slice(0, -2)), batchB = size(b.shape.slice(0, -2));
      const batch = size(outer);
      if ((batchA !== 1 && batchA !== batch) || (batchB !== 1 && batchB !== batch)) {
        // Partial broadcasting of batch dimensions: rare here, left to the XNNPACK kernel.
        return xnnpack.kernelFunc(args);
      }
      const out = (args.backend as WasmBackend).makeOutput([...outer, m, n], "float32");
      const o = heap(args.backend, out) as Float32Array;
      const av = heap(args.backend, a) as Float32Array, bv = heap(args.backend, b) as Float32Array;
      for (let i = 0; i < batch; i++) {
        const ai = batchA === 1 ? 0 : i, bi = batchB === 1 ? 0 : i;
        blas.sgemm(
          transposeA,
          transposeB,
          m,
          n,
          k,
          av.subarray(ai * m * k, (ai + 1) * m * k),
          bv.subarray(bi * k * n, (bi + 1) * k * n),
          o.subarray(i * m * n, (i + 1) * m * n),
        );
      }
      return out;
    },
  });

  tf.registerKernel({
    kernelName: "Affine",
    backendName: "wasm",
    kernelFunc: ({ inputs, backend }) => {
      const { x, W, b } = inputs as unknown as { x: Info; W: Info; b: Info };
      const [m, k] = x.shape, n = W.shape[1];
      const out = (backend as WasmBackend).makeOutput([m, n], "float32");
      const o = heap(backend, out) as Float32Array, bias = heap(backend, b) as Float32Array;
      for (let i = 0; i < m; i++) o.set(bias, i * n);
      blas!.sgemm(
        false,
        false,
        m,
        n,
        k,
        heap(backend, x) as Float32Array,
        heap(backend, W) as Float32Array,
        o,
        1,
      );
      return out;
    },
  });
}

/** x·W + b as one BLAS call on the wasm backend; undefined where that is not available. */
export function affine(x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D | undefined {
  if (!blas || tf.getBackend() !== "wasm" || x.rank !== 2 || W.rank !== 2 || b.rank !== 1) {
    return undefined;
  }
  return tf.engine().runKernel("Affine", { x, W, b }) as tf.Tensor2D;
}
