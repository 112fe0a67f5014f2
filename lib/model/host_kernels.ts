/**
 * Kernels written in plain TypeScript over float32 buffers, registered on both CPU backends of
 * TensorFlow.js (cpu: its JS arrays; wasm: views of its heap), without copying.
 *
 * Why: a fused loop does in one pass what a chain of TF.js ops does in a dozen, each op a pass
 * over memory plus engine bookkeeping. That matters for the small, irregular steps of message
 * passing and for the optimiser update; matrix products stay with BLAS/XNNPACK. A kernel body
 * may hand its views to the same loop in C (`native.ts`, on `wasm-blas`) instead of running its
 * TypeScript loop.
 */
import * as tf from "@tensorflow/tfjs";

export type TensorInfo = { dataId: object; shape: number[]; dtype: tf.DataType };

/** A kernel body: reads its inputs as float32 views, allocates outputs with `alloc`. */
export type HostKernel = (
  io: {
    inputs: Record<string, TensorInfo>;
    view: (t: TensorInfo) => Float32Array;
    /** A float32 output, zero-filled unless `zero` is false (every entry then gets written). */
    alloc: (shape: number[], zero?: boolean) => TensorInfo;
  },
  attrs: never,
) => TensorInfo | TensorInfo[];

// deno-lint-ignore no-explicit-any
type AnyBackend = any;

const ADAPTERS: Record<
  string,
  {
    view(b: AnyBackend, t: TensorInfo): Float32Array;
    alloc(b: AnyBackend, shape: number[], zero: boolean): TensorInfo;
  }
> = {
  cpu: {
    view: (b, t) => b.data.get(t.dataId).values as Float32Array,
    alloc: (b, shape) =>
      b.makeTensorInfo(shape, "float32", new Float32Array(shape.reduce((a, v) => a * v, 1))),
  },
  wasm: {
    view: (b, t) => b.typedArrayFromHeap(t) as Float32Array,
    // Fresh wasm memory is not zeroed: fill, as the cpu backend's arrays start at 0.
    alloc: (b, shape, zero) => {
      const out = b.makeOutput(shape, "float32");
      if (zero) b.typedArrayFromHeap(out).fill(0);
      return out;
    },
  },
};

/** A float32 tensor's buffer on a host backend, to read (undefined on other backends). */
export function hostView(t: tf.Tensor): Float32Array | undefined {
  const name = tf.getBackend();
  if (!(name in ADAPTERS) || t.dtype !== "float32") return undefined;
  return ADAPTERS[name].view(tf.backend() as AnyBackend, t as unknown as TensorInfo);
}

/**
 * A float32 tensor's own buffer on a host backend, for updating it in place — or undefined where
 * that would be unsafe: another backend, or a buffer shared with another tensor (a clone, a
 * reshape, a variable assigned from a tensor still alive), which an in-place write would change too.
 * Take views after any allocation (a wasm allocation may grow the heap and detach them).
 */
export function exclusiveBuffer(t: tf.Tensor): Float32Array | undefined {
  const shared = (tf.backend() as AnyBackend).refCount?.(t.dataId) !== 1;
  return shared ? undefined : hostView(t);
}

/** Whether host kernels run on the current backend (else callers use TF.js ops). */
export function hostKernelsAvailable(): boolean {
  return tf.getBackend() in ADAPTERS;
}

const registered = new Set<string>();

/**
 * Registers `kernel` under `name` on the cpu and wasm backends (once). Inside a kernel, take
 * all views after the last `alloc`: a wasm allocation may grow the heap and detach older views.
 */
export function registerHostKernel(name: string, kernel: HostKernel): void {
  if (registered.has(name)) return;
  registered.add(name);
  for (const [backendName, a] of Object.entries(ADAPTERS)) {
    tf.registerKernel({
      kernelName: name,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) =>
        kernel(
          {
            inputs: inputs as unknown as Record<string, TensorInfo>,
            view: (t) => {
              if (t.dtype !== "float32") {
                throw new Error(`${name}: ${t.dtype} input, float32 expected`);
              }
              return a.view(backend, t);
            },
            alloc: (shape, zero = true) => a.alloc(backend, shape, zero),
          },
          attrs as never,
        ),
    });
  }
}

/** Runs a host kernel on tensors. */
export function runHostKernel(
  name: string,
  inputs: Record<string, tf.Tensor>,
  attrs: object,
): tf.Tensor[] {
  const out = tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs as never);
  return Array.isArray(out) ? out : [out as tf.Tensor];
}
