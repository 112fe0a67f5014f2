/**
 * A command's options as a typed schema. Every value is parsed and checked against its
 * declaration before the command runs — an integer option given `2.5`, a number out of range or
 * a value outside a choice list is a usage error (exit 2) before anything is read or written —
 * and commands read values through typed accessors, never by casting.
 */
import { parseArgs } from "node:util";

export type OptionSpec =
  | { type: "boolean"; help: string; short?: string }
  | { type: "string"; help: string; choices?: readonly string[] }
  | { type: "integer"; help: string; min?: number; max?: number }
  | { type: "number"; help: string; min?: number; max?: number };

export type OptionSchema = Record<string, OptionSpec>;

/** Bad command-line use: printed with the command's help, exit code 2. */
export class UsageError extends Error {}

/** "a", "a or b", "a, b or c". */
export const alternatives = (xs: readonly string[]) =>
  xs.length < 2 ? xs.join("") : `${xs.slice(0, -1).join(", ")} or ${xs[xs.length - 1]}`;

type Value = string | number | boolean;

/** Parsed, checked option values of one command line. */
export class Options {
  private constructor(
    private readonly schema: OptionSchema,
    private readonly values: Record<string, Value | undefined>,
    readonly positionals: string[],
  ) {}

  /**
   * Parses `args` against `schema` (unknown options, missing values and ill-typed values are
   * UsageErrors).
   *
   * @example
   * ```ts
   * const o = Options.parse(["run", "--epochs", "50"], { epochs: { type: "integer", help: "", min: 1 } });
   * o.int("epochs"); // 50
   * ```
   */
  static parse(args: string[], schema: OptionSchema): Options {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        options: Object.fromEntries(
          Object.entries(schema).map(([k, s]) => [
            k,
            s.type === "boolean"
              ? { type: "boolean" as const, ...(s.short ? { short: s.short } : {}) }
              : { type: "string" as const },
          ]),
        ),
        allowPositionals: true,
        strict: true,
      });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const values: Record<string, Value | undefined> = {};
    for (const [k, raw] of Object.entries(parsed.values)) {
      const s = schema[k];
      if (raw === undefined || typeof raw === "boolean") {
        values[k] = raw as boolean | undefined;
        continue;
      }
      const text = String(raw);
      if (s.type === "string") {
        if (s.choices && !s.choices.includes(text)) {
          throw new UsageError(`--${k} ${text}: expected ${alternatives(s.choices)}`);
        }
        values[k] = text;
      } else if (s.type === "integer" || s.type === "number") {
        const x = Number(text);
        const ok = text.trim() !== "" && Number.isFinite(x) &&
          (s.type === "number" || Number.isInteger(x));
        const range = s.min !== undefined || s.max !== undefined
          ? ` in [${s.min ?? "−∞"}, ${s.max ?? "∞"}]`
          : "";
        if (!ok || (s.min !== undefined && x < s.min) || (s.max !== undefined && x > s.max)) {
          throw new UsageError(
            `--${k} ${text}: expected ${s.type === "integer" ? "an integer" : "a number"}${range}`,
          );
        }
        values[k] = x;
      }
    }
    return new Options(schema, values, parsed.positionals);
  }

  private get(k: string, type: OptionSpec["type"]): Value | undefined {
    const s = this.schema[k];
    // A misdeclared access is the program's error, not the user's.
    if (!s) throw new Error(`option --${k} is not declared by this command`);
    if (s.type !== type) throw new Error(`option --${k} is declared ${s.type}, read as ${type}`);
    return this.values[k];
  }
  /** Whether the option was given at all. */
  has(k: string): boolean {
    return this.values[k] !== undefined;
  }
  str(k: string): string | undefined {
    return this.get(k, "string") as string | undefined;
  }
  int(k: string): number | undefined {
    return this.get(k, "integer") as number | undefined;
  }
  num(k: string): number | undefined {
    return this.get(k, "number") as number | undefined;
  }
  flag(k: string): boolean {
    return this.get(k, "boolean") === true;
  }
  /** A comma-separated list option (`--slices B4,C2`), or undefined when absent. */
  list(k: string): string[] | undefined {
    return this.str(k)?.split(",").map((x) => x.trim()).filter((x) => x !== "");
  }
  /** A string option restricted to `allowed` (declared with `choices`), typed as one of them. */
  choice<T extends string>(k: string, allowed: readonly T[]): T | undefined;
  choice<T extends string>(k: string, allowed: readonly T[], fallback: T): T;
  choice<T extends string>(k: string, allowed: readonly T[], fallback?: T): T | undefined {
    const v = this.str(k);
    if (v === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(v)) {
      throw new UsageError(`--${k} ${v}: expected ${alternatives(allowed)}`);
    }
    return v as T;
  }
}
