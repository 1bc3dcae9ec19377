/** Prints a usage error and exits 2, as every CLI here does for misuse. */
export function usageError(usage: string, message: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}
