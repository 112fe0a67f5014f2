/** Reading files with errors that name the file: existence checks, gzip, delimited text. */
import { gunzipSync } from "node:zlib";
import { DataError } from "../errors.ts";

/** Reads a file's bytes; a missing or unreadable file becomes a DataError naming it. */
export function readBytes(path: string, what = "file"): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new DataError(`${what} not found`, { file: path });
    }
    throw new DataError(`cannot read ${what}: ${(e as Error).message}`, { file: path });
  }
}

/** True if `path` exists (file or directory). */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads a file, gunzipping it when it starts with the gzip magic bytes. */
export function readMaybeGzip(path: string, what = "file"): Uint8Array {
  const raw = readBytes(path, what);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return gunzipSync(raw);
    } catch (e) {
      throw new DataError(`corrupt gzip data: ${(e as Error).message}`, { file: path });
    }
  }
  return raw;
}

/** A delimited text table: a header and rows of string fields, with their 1-based line numbers. */
export interface TextTable {
  file: string;
  header: string[];
  rows: string[][];
  lines: number[];
}

/**
 * Parses a small delimited text table (spot files, label files, CSVs without quoted
 * delimiters inside fields). Surrounding double quotes are stripped. Rows with a different
 * number of fields than the header are an error naming the line — except that a header one
 * field shorter than the rows is accepted as an R-style table with an unnamed index column.
 */
export function parseTable(text: string, file: string, sep: string, hasHeader = true): TextTable {
  const unquote = (s: string) =>
    s.length >= 2 && s[0] === '"' && s[s.length - 1] === '"' ? s.slice(1, -1) : s;
  const all = text.split(/\r?\n/);
  let header: string[] = [];
  const rows: string[][] = [];
  const lines: number[] = [];
  let start = 0;
  if (hasHeader) {
    while (start < all.length && all[start].trim() === "") start++;
    if (start === all.length) {
      throw new DataError("file is empty, expected a header line", { file });
    }
    header = all[start].split(sep).map(unquote);
    start++;
  }
  for (let i = start; i < all.length; i++) {
    if (all[i].trim() === "") continue;
    const fields = all[i].split(sep).map(unquote);
    if (hasHeader && fields.length === header.length + 1 && rows.length === 0) {
      header = ["", ...header];
    }
    if (hasHeader && fields.length !== header.length) {
      throw new DataError(
        `has ${fields.length} fields, expected ${header.length} as in the header`,
        {
          file,
          line: i + 1,
        },
      );
    }
    rows.push(fields);
    lines.push(i + 1);
  }
  return { file, header, rows, lines };
}

/** Index of a required column; a DataError listing the columns found when it is missing. */
export function column(t: TextTable, name: string): number {
  const i = t.header.indexOf(name);
  if (i < 0) {
    throw new DataError(`missing column '${name}' (found: ${t.header.join(", ")})`, {
      file: t.file,
      line: 1,
    });
  }
  return i;
}

/** Parses a numeric field, or throws a DataError naming file, line and column. */
export function numberField(t: TextTable, row: number, col: number): number {
  const s = t.rows[row][col];
  const v = s.trim() === "" ? NaN : Number(s);
  if (!Number.isFinite(v)) {
    throw new DataError(`column '${t.header[col]}' is '${s}', expected a number`, {
      file: t.file,
      line: t.lines[row],
    });
  }
  return v;
}

/** Writes a file atomically: to a temporary sibling, then renamed over the target. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  if (typeof data === "string") Deno.writeTextFileSync(tmp, data);
  else Deno.writeFileSync(tmp, data);
  Deno.renameSync(tmp, path);
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Throws a DataError unless `path` is a complete HDF5 file. h5wasm does not fail on opening a
 * non-HDF5 or truncated file (it fails later, after pages of HDF5 diagnostics, with "name not
 * defined"), so the superblock is checked first: its signature, at the offsets HDF5 allows (0,
 * 512, 1024, …), and its end-of-file address against the file's size.
 */
export function assertHdf5(path: string): void {
  const bytes = readBytes(path, "HDF5 file");
  for (let off = 0; off + 8 <= bytes.length; off = off === 0 ? 512 : off * 2) {
    if (!HDF5_SIGNATURE.every((b, i) => bytes[off + i] === b)) continue;
    const eof = superblockEnd(bytes, off);
    if (eof !== undefined && off + eof > bytes.length) {
      throw new DataError(
        `truncated HDF5 file: ${bytes.length} bytes, its superblock says ${
          off + eof
        } (an interrupted download or copy?)`,
        { file: path },
      );
    }
    return;
  }
  throw new DataError("not a readable HDF5 file (no HDF5 signature)", { file: path });
}

/** The end-of-file address the superblock at `off` records (versions 0–3), if readable. */
function superblockEnd(b: Uint8Array, off: number): number | undefined {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const version = b[off + 8];
  const read = (at: number, size: number) => {
    if (at + size > b.length) return undefined;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + view.getUint8(at + i);
    return v;
  };
  if (version === 0 || version === 1) {
    const sizeOfOffsets = b[off + 13];
    // signature 8, four version bytes, reserved, sizes of offsets and lengths, reserved, two
    // K values (2 each), flags (4); version 1 adds an indexed-storage K and 2 reserved bytes.
    const base = off + 24 + (version === 1 ? 4 : 0);
    return read(base + 2 * sizeOfOffsets, sizeOfOffsets);
  }
  if (version === 2 || version === 3) {
    const sizeOfOffsets = b[off + 9];
    // signature 8, version, sizes of offsets and lengths, flags; then base address, superblock
    // extension address, end-of-file address.
    return read(off + 12 + 2 * sizeOfOffsets, sizeOfOffsets);
  }
  return undefined;
}
