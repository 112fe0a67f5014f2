/** The shape of a CLI command, shared by `main.ts` and the command modules it registers. */
import type { Options, OptionSchema } from "./options.ts";

export { Options, UsageError } from "./options.ts";
export type { OptionSchema, OptionSpec } from "./options.ts";

export interface Command {
  usage: string;
  summary: string;
  options: OptionSchema;
  /** Runs with the checked options (`o.positionals` holds the arguments); returns the exit code. */
  run(o: Options): Promise<number>;
}

/** One JSON object on standard output. */
export const json = (o: unknown) => console.log(JSON.stringify(o, null, 2));
