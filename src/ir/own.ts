// Reading user-supplied records by a name from a file: only own properties count, so a value
// named "constructor" or "toString" is never mistaken for something Object.prototype has.

/** `record[key]` when `record` has it as its own property, else undefined. */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined;
export function own(record: object, key: string): unknown;
export function own(record: object, key: string): unknown {
  return Object.hasOwn(record, key) ? (record as Record<string, unknown>)[key] : undefined;
}
