// Where, in a model file, something was written: its own module so that errors (which quote it)
// and nodes (which carry it) both read it without importing each other.

/** Where, in the user's model file, the layer that made a node was written. */
export interface SourceLoc {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}
