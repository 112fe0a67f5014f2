/// <reference lib="deno.worker" />
/** Worker side of the built-in encoder's pool: encodes a chunk of patches. */
import { BUILTIN_DIM, encodePatch } from "./builtin.ts";

self.onmessage = (ev: MessageEvent<{ id: number; data: Uint8Array; n: number; size: number }>) => {
  const { id, data, n, size } = ev.data;
  const out = new Float32Array(n * BUILTIN_DIM);
  const stride = size * size * 3;
  for (let i = 0; i < n; i++) out.set(encodePatch(data, i * stride, size), i * BUILTIN_DIM);
  self.postMessage({ id, out }, [out.buffer]);
};
