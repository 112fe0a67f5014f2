/**
 * TensorFlow.js backend selection. `cpu` (pure JS, everywhere), `wasm` (XNNPACK SIMD; the
 * fastest CPU backend measured here), `webgpu` (Deno's WebGPU: the GPU where one exists, a
 * software adapter otherwise), `tensorflow` (@tensorflow/tfjs-node-gpu, optional, never needed
 * by tests). `auto` takes wasm, else cpu — and every report states the backend actually used.
 *
 * The wasm backend lacks the `UnsortedSegmentSum` kernel, which the gradient of `gather` needs.
 * It is registered here as a JS kernel working on the wasm backend's own buffers, so training
 * stays on wasm (no round trip through another backend) — a scatter-add is memory-bound and the
 * JS loop is as fast as a compiled one for our sizes. The wasm `GatherV2` kernel is replaced the
 * same way: tfjs 4.22's copies element by element and took 1.7 s of a 1.9 s forward pass here;
 * gathering whole rows with typed-array copies takes milliseconds.
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { fileURLToPath } from "node:url";

export type BackendName = "auto" | "cpu" | "wasm" | "webgpu" | "tensorflow";

let wasmRegistered = false;
function registerWasmSegmentSum(): void {
  if (wasmRegistered) return;
  wasmRegistered = true;
  tf.registerKernel({
    kernelName: "UnsortedSegmentSum",
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as { x: tf.Tensor; segmentIds: tf.Tensor };
      const { numSegments } = attrs as unknown as { numSegments: number };
      // deno-lint-ignore no-explicit-any
      const b = backend as any;
      const xv = b.readSync(x.dataId) as Float32Array;
      const ids = b.readSync(segmentIds.dataId) as Int32Array;
      const inner = x.shape.slice(segmentIds.shape.length).reduce((a, v) => a * v, 1);
      const out = new Float32Array(numSegments * inner);
      for (let i = 0; i < ids.length; i++) {
        const s = ids[i];
        if (s < 0 || s >= numSegments) continue;
        const o = s * inner, p = i * inner;
        for (let j = 0; j < inner; j++) out[o + j] += xv[p + j];
      }
      const shape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
      const dataId = b.write(out, shape, "float32");
      return { dataId, shape, dtype: "float32" };
    },
  });
  tf.unregisterKernel("GatherV2", "wasm");
  tf.registerKernel({
    kernelName: "GatherV2",
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, indices } = inputs as { x: tf.Tensor; indices: tf.Tensor };
      const { axis, batchDims } = attrs as unknown as { axis: number; batchDims: number };
      if (axis !== 0 || (batchDims ?? 0) !== 0 || (x.dtype !== "float32" && x.dtype !== "int32")) {
        throw new Error(
          `GatherV2 on wasm supports axis 0 on float32/int32 only (axis ${axis}, ${x.dtype})`,
        );
      }
      // deno-lint-ignore no-explicit-any
      const b = backend as any;
      const xv = b.readSync(x.dataId) as Float32Array | Int32Array;
      const idx = b.readSync(indices.dataId) as Int32Array;
      const row = x.shape.slice(1).reduce((a, v) => a * v, 1);
      const out = x.dtype === "int32"
        ? new Int32Array(idx.length * row)
        : new Float32Array(idx.length * row);
      for (let i = 0; i < idx.length; i++) {
        const r = idx[i];
        if (r < 0 || r >= x.shape[0]) {
          throw new Error(`gather index ${r} out of range [0, ${x.shape[0]})`);
        }
        out.set(xv.subarray(r * row, (r + 1) * row), i * row);
      }
      const shape = [...indices.shape, ...x.shape.slice(1)];
      return { dataId: b.write(out, shape, x.dtype), shape, dtype: x.dtype };
    },
  });
}

/** Selects and initialises a backend; returns the name actually in use. */
export async function useBackend(name: BackendName = "auto"): Promise<string> {
  const tryOne = async (b: string): Promise<boolean> => {
    try {
      if (b === "wasm") {
        await import("@tensorflow/tfjs-backend-wasm");
        setWasmPaths(
          fileURLToPath(
            new URL("../../node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url),
          ),
        );
        registerWasmSegmentSum();
      } else if (b === "webgpu") {
        await import("@tensorflow/tfjs-backend-webgpu");
      } else if (b === "tensorflow") {
        // Optional native backend: `npm install @tensorflow/tfjs-node-gpu` on a CUDA machine.
        await import(["@tensorflow", "tfjs-node-gpu"].join("/"));
      }
      const ok = await tf.setBackend(b);
      await tf.ready();
      return ok && tf.getBackend() === b;
    } catch {
      return false;
    }
  };
  const order = name === "auto" ? ["wasm", "cpu"] : [name];
  for (const b of order) if (await tryOne(b)) return b;
  throw new Error(`TensorFlow.js backend '${name}' is not available here`);
}

/** A description of the device behind the current backend, for reports. */
export function deviceDescription(): string {
  const b = tf.getBackend();
  if (b === "webgpu") {
    // deno-lint-ignore no-explicit-any
    const info = (tf.backend() as any).adapterInfo;
    return `webgpu (${info?.vendor ?? "?"} ${info?.architecture ?? ""} ${info?.description ?? ""})`
      .trim();
  }
  return b === "tensorflow" ? "tensorflow (libtensorflow)" : `${b} (CPU)`;
}

export { tf };
