/**
 * What makes a result reusable: the code that computed it and the inputs it was computed from.
 * Resumable runs (run folders, checkpoints) key their identity on these as well as on their
 * configuration, so a changed embedding file at the same path, changed counts or changed code
 * never resume into or reuse work made from something else.
 */
import { createHash } from "node:crypto";
import { join, relative } from "node:path";
import { PROJECT_ROOT } from "../paths.ts";

let cachedCodeVersion: string | undefined;

/**
 * A digest of the library's source (every `lib/**\/*.ts` and `.c` file, by path and content). Any
 * change to the library — a fix, a new default — gives another version; a run made before it is
 * then refused rather than silently extended. Computed once per process (~10 ms).
 *
 * @example
 * ```ts
 * console.log(codeVersion()); // "3f9c0a1b2d4e"
 * ```
 */
export function codeVersion(): string {
  if (cachedCodeVersion) return cachedCodeVersion;
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const p = join(dir, e.name);
      if (e.isDirectory) walk(p);
      else if (/\.(ts|c)$/.test(e.name)) files.push(p);
    }
  };
  try {
    walk(join(PROJECT_ROOT, "lib"));
  } catch {
    // A bundled copy (the GPU pack) carries no sources beside it: say so rather than fail.
    return (cachedCodeVersion = "bundled");
  }
  const h = createHash("sha256");
  for (const f of files.sort()) {
    h.update(relative(PROJECT_ROOT, f)).update("\0").update(Deno.readFileSync(f)).update("\0");
  }
  return (cachedCodeVersion = h.digest("hex").slice(0, 12));
}

/** A digest of typed arrays and strings, in order (sha256, 16 hex digits). */
export function digestOf(...parts: (ArrayBufferView | string | number)[]): string {
  const h = createHash("sha256");
  for (const p of parts) {
    if (typeof p === "string" || typeof p === "number") h.update(String(p));
    else h.update(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
    h.update("\0");
  }
  return h.digest("hex").slice(0, 16);
}

/**
 * A file's identity without reading all of it: its size, modification time and a digest of
 * three 64 KiB samples (start, middle, end) — whole-slide images and model files are large, and a
 * file rewritten with the same size and time but other content is still caught in most cases.
 *
 * @example
 * ```ts
 * fileFingerprint("data/her2st/ST-imgs/B/B4/HE.jpg"); // "1834567:1700000000000:9c1e…"
 * ```
 */
export function fileFingerprint(path: string): string {
  const st = Deno.statSync(path);
  const block = 65536;
  const f = Deno.openSync(path, { read: true });
  try {
    const h = createHash("sha256");
    for (const at of [0, Math.max(0, Math.floor(st.size / 2) - block / 2), st.size - block]) {
      const buf = new Uint8Array(Math.min(block, st.size));
      f.seekSync(Math.max(0, at), Deno.SeekMode.Start);
      let got = 0;
      while (got < buf.length) {
        const n = f.readSync(buf.subarray(got));
        if (n === null) break;
        got += n;
      }
      h.update(buf.subarray(0, got));
    }
    return `${st.size}:${st.mtime?.getTime()}:${h.digest("hex").slice(0, 16)}`;
  } finally {
    f.close();
  }
}

/**
 * The settings where two run identities differ, as `key: before → now` lines (nested keys with
 * dots), for refusals that say what changed.
 */
export function identityDifferences(before: unknown, now: unknown, path = ""): string[] {
  const isObj = (x: unknown): x is Record<string, unknown> =>
    typeof x === "object" && x !== null && !Array.isArray(x);
  if (isObj(before) && isObj(now)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(now)])].sort();
    return keys.flatMap((k) => identityDifferences(before[k], now[k], path ? `${path}.${k}` : k));
  }
  const a = JSON.stringify(before), b = JSON.stringify(now);
  if (a === b) return [];
  const short = (s: string | undefined) =>
    s === undefined ? "(absent)" : s.length > 60 ? s.slice(0, 57) + "…" : s;
  return [`${path || "(value)"}: ${short(a)} → ${short(b)}`];
}
