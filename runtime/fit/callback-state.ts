// The callbacks' own state across a trainer's save() and load(): early stopping's best and wait,
// the plateau's, a checkpoint's best. fit attaches its callbacks to the trainer; save() records
// their state in the file's metadata; load() keeps it until the next fit hands each entry back
// to the callback of the same kind and position, so a resumed run stops where an unbroken one would.
import type { Callback } from './types.ts';

/** One callback's saved figures: JSON numbers, null for "none yet". */
export type CallbackState = Readonly<Record<string, number | null>>;

/** A callback whose state survives save/load. */
export interface StatefulCallback extends Callback {
  /** Its kind (`earlyStopping`, `reduceLrOnPlateau`, `checkpoint`): a saved state goes back to a callback of the same kind. */
  readonly stateKind: string;
  saveState(): CallbackState;
  restoreState(state: CallbackState): void;
}

const isStateful = (c: Callback): c is StatefulCallback => typeof (c as StatefulCallback).stateKind === 'string' && typeof (c as StatefulCallback).saveState === 'function';

/** Per trainer: states loaded and not yet handed back, and the last fit's stateful callbacks by key. */
interface Holder {
  pending: Record<string, CallbackState>;
  live: [string, StatefulCallback][];
}

const holders = new WeakMap<object, Holder>();

function holderOf(trainer: object): Holder {
  let h = holders.get(trainer);
  if (!h) holders.set(trainer, (h = { pending: {}, live: [] }));
  return h;
}

/** `earlyStopping#0`: the kind and its position among callbacks of that kind (two checkpoints keep theirs apart). */
function keyed(callbacks: readonly Callback[]): [string, StatefulCallback][] {
  const seen = new Map<string, number>();
  return callbacks.filter(isStateful).map((c) => {
    const n = seen.get(c.stateKind) ?? 0;
    seen.set(c.stateKind, n + 1);
    return [`${c.stateKind}#${n}`, c];
  });
}

/**
 * At the start of a fit: hands loaded states back to `callbacks`, which save() records from now
 * on. States no callback of this fit takes are dropped: a save() holds the last fit's callbacks.
 */
export function attachCallbacks(trainer: object, callbacks: readonly Callback[]): void {
  const h = holderOf(trainer);
  h.live = keyed(callbacks);
  for (const [key, c] of h.live) if (Object.hasOwn(h.pending, key)) c.restoreState(h.pending[key]);
  h.pending = {};
}

/** What save() records (undefined when there is nothing): the attached callbacks' state now, or the loaded states no fit has taken yet. */
export function callbackStates(trainer: object): Record<string, CallbackState> | undefined {
  const h = holderOf(trainer);
  const states = { ...h.pending, ...Object.fromEntries(h.live.map(([key, c]) => [key, c.saveState()])) };
  return Object.keys(states).length > 0 ? states : undefined;
}

/** On load(): the file's states wait for the next fit; callbacks attached before are let go. */
export function loadCallbackStates(trainer: object, states: unknown): void {
  const h = holderOf(trainer);
  h.live = [];
  h.pending = {};
  if (typeof states !== 'object' || states === null || Array.isArray(states)) return;
  for (const [key, value] of Object.entries(states)) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) h.pending[key] = value as CallbackState;
  }
}

/** A number out of a saved state, or undefined (null, missing, or not a number). */
export const savedNumber = (state: CallbackState, key: string): number | undefined => (typeof state[key] === 'number' ? (state[key] as number) : undefined);
