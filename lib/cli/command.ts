/** The shape of a CLI command, shared by `main.ts` and the command groups it merges. */
export interface Command {
  usage: string;
  summary: string;
  options: Record<string, { type: "string" | "boolean"; help: string }>;
  run(positionals: string[], values: Record<string, string | boolean | undefined>): Promise<number>;
}

/** Bad command-line use: printed with the command's help, exit code 2. */
export class UsageError extends Error {}

/** One JSON object on standard output. */
export const json = (o: unknown) => console.log(JSON.stringify(o, null, 2));

/** A numeric option, or a UsageError naming it. */
export function numberOption(
  v: Record<string, string | boolean | undefined>,
  k: string,
  fallback: number,
  check: (x: number) => boolean = Number.isFinite,
  expected = "a number",
): number {
  if (v[k] === undefined) return fallback;
  const x = Number(v[k]);
  if (!check(x)) throw new UsageError(`--${k} ${v[k]}: expected ${expected}`);
  return x;
}

/** "a", "a or b", "a, b or c". */
const alternatives = (xs: readonly string[]) =>
  xs.length < 2 ? xs.join("") : `${xs.slice(0, -1).join(", ")} or ${xs[xs.length - 1]}`;

/** An option restricted to named values: the value, `fallback` when absent, or a UsageError. */
export function choiceOption<T extends string>(
  v: Record<string, string | boolean | undefined>,
  k: string,
  allowed: readonly T[],
  fallback: T,
): T;
export function choiceOption<T extends string>(
  v: Record<string, string | boolean | undefined>,
  k: string,
  allowed: readonly T[],
): T | undefined;
export function choiceOption<T extends string>(
  v: Record<string, string | boolean | undefined>,
  k: string,
  allowed: readonly T[],
  fallback?: T,
): T | undefined {
  if (v[k] === undefined) return fallback;
  if (!allowed.includes(v[k] as T)) {
    throw new UsageError(`--${k} ${v[k]}: expected ${alternatives(allowed)}`);
  }
  return v[k] as T;
}
