/**
 * TensorFlow.js backend selection:
 * - `cpu`: pure JS, everywhere;
 * - `wasm`: XNNPACK SIMD on one thread, with the kernels of `wasm_kernels.ts` (the wasm backend
 *   lacks `UnsortedSegmentSum`, which the gradient of `gather` needs; training stays on wasm);
 * - `wasm-blas`: the same backend with its matrix products done by the system BLAS through FFI
 *   (OpenBLAS: 5–6× XNNPACK's throughput on the model's shapes here; see `blas.ts`) and the
 *   host kernels (message passing, AdamW, …) in C compiled for this CPU when a compiler is
 *   found (`native.ts`; 1.05 → 0.74 s per benchmark epoch);
 * - `webgpu`: Deno's WebGPU — the GPU where one exists, a software adapter otherwise;
 * - `tensorflow`: @tensorflow/tfjs-node-gpu, optional, never needed by tests.
 * `auto` takes wasm-blas, else wasm, else cpu — and every report states the backend and the
 * device actually used.
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { fileURLToPath } from "node:url";
import { blasStatus } from "./blas.ts";
import { nativeKernels, nativeStatus, setNativeKernels } from "./native.ts";
import { blasMatMul, registerWasmKernels, setBlasMatMul } from "./wasm_kernels.ts";

export type BackendName = "auto" | "cpu" | "wasm" | "wasm-blas" | "webgpu" | "tensorflow";

/** Every name `useBackend` accepts, for option parsers. */
export const BACKEND_NAMES: readonly BackendName[] = [
  "auto",
  "wasm-blas",
  "wasm",
  "cpu",
  "webgpu",
  "tensorflow",
];

/** Selects and initialises a backend; returns the name actually in use. */
export async function useBackend(name: BackendName = "auto"): Promise<string> {
  const tryOne = async (b: string): Promise<boolean> => {
    try {
      if (b === "wasm" || b === "wasm-blas") {
        await import("@tensorflow/tfjs-backend-wasm");
        setWasmPaths(
          fileURLToPath(
            new URL("../../node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url),
          ),
        );
        registerWasmKernels();
        // Without a BLAS library `wasm-blas` is unavailable (auto then falls back to wasm).
        if (!setBlasMatMul(b === "wasm-blas") && b === "wasm-blas") return false;
        setNativeKernels(b === "wasm-blas");
      } else {
        setNativeKernels(false);
      }
      if (b === "webgpu") {
        await import("@tensorflow/tfjs-backend-webgpu");
      } else if (b === "tensorflow") {
        // Optional native backend: `npm install @tensorflow/tfjs-node-gpu` on a CUDA machine.
        await import(["@tensorflow", "tfjs-node-gpu"].join("/"));
      }
      const tfName = b === "wasm-blas" ? "wasm" : b;
      const ok = await tf.setBackend(tfName);
      await tf.ready();
      return ok && tf.getBackend() === tfName;
    } catch {
      return false;
    }
  };
  const order = name === "auto" ? ["wasm-blas", "wasm", "cpu"] : [name];
  for (const b of order) if (await tryOne(b)) return b;
  const why = name === "wasm-blas" ? ` (${blasStatus})` : "";
  throw new Error(`TensorFlow.js backend '${name}' is not available here${why}`);
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
  if (b === "wasm" && blasMatMul()) {
    return `wasm (CPU; matrix products: ${blasMatMul()!.description}; other kernels: ${
      nativeKernels() ? nativeStatus : "TypeScript"
    })`;
  }
  return b === "tensorflow" ? "tensorflow (libtensorflow)" : `${b} (CPU)`;
}

/**
 * Whether products with a transposed operand are slow on the current backend (XNNPACK on wasm:
 * ~10× a plain product), so gradients should transpose explicitly first.
 */
export function transposedProductsAreSlow(): boolean {
  return tf.getBackend() === "wasm" && !blasMatMul();
}

export { tf };
