/**
 * Prepared slices as one binary file, for the GPU pack (the device has neither the data nor the
 * readers): a JSON header (name, patient, spots, array coordinates, n, dim, genes), then each
 * slice's features (n × dim) and targets (n × G) as little-endian float32. Only what SpaHGC's
 * `fit` and `predict` read travels; the counts behind the targets do not.
 */
import type { PreparedSlice } from "../../lib/model/method.ts";
import { CsrMatrix } from "../../lib/data/sparse.ts";

interface Header {
  dim: number;
  genes: string[];
  slices: { name: string; patient: string; spots: string[]; ax: number[]; ay: number[] }[];
}

export function packSlices(slices: PreparedSlice[], genes: string[]): Uint8Array {
  const dim = slices[0].x.length / slices[0].n;
  const header: Header = {
    dim,
    genes,
    slices: slices.map((s) => ({
      name: s.name,
      patient: s.patient,
      spots: s.slice.spots,
      ax: Array.from(s.slice.array.x),
      ay: Array.from(s.slice.array.y),
    })),
  };
  const head = new TextEncoder().encode(JSON.stringify(header));
  const pad = (4 - ((4 + head.length) % 4)) % 4;
  const floats = slices.reduce((a, s) => a + s.x.length + s.y.length, 0);
  const out = new Uint8Array(4 + head.length + pad + 4 * floats);
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 4);
  let off = 4 + head.length + pad;
  for (const s of slices) {
    for (const a of [s.x, s.y]) {
      out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), off);
      off += a.byteLength;
    }
  }
  return out;
}

export function readPackedSlices(bytes: Uint8Array): PreparedSlice[] {
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + len))) as Header;
  let off = 4 + len + ((4 - ((4 + len) % 4)) % 4);
  const take = (count: number) => {
    const a = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset + off, bytes.byteOffset + off + 4 * count),
    );
    off += 4 * count;
    return a;
  };
  const G = header.genes.length;
  return header.slices.map((h) => {
    const n = h.spots.length;
    const x = take(n * header.dim), y = take(n * G);
    const coords = { x: Float64Array.from(h.ax), y: Float64Array.from(h.ay) };
    return {
      name: h.name,
      patient: h.patient,
      n,
      x,
      y,
      slice: {
        name: h.name,
        patient: h.patient,
        counts: new CsrMatrix(n, 0, new Int32Array(n + 1), new Int32Array(0), new Float32Array(0)),
        genes: [],
        spots: h.spots,
        array: coords,
        pixel: coords,
        labels: {},
      },
    };
  });
}
