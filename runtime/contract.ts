// The contract between an emitted module and the runtime it imports. A module calls into the
// runtime with arguments whose meaning is fixed when it is compiled (buffer layouts, the room a
// packed weight takes beside its parameter, the kernels' memory imports), so a module compiled by
// one Kiln and run against another's kiln/runtime could compute garbage or write past a buffer
// without any error. Each module therefore states the contract it was compiled for at import, and
// a runtime with another refuses it in one line.
//
// Bump RUNTIME_CONTRACT whenever a change to runtime/ or to the emitted modules changes what a
// module compiled before it may call or assume (a parameter, a layout, a memory convention).
// test/package/runtime-surface.test.ts fails on any change to the declared shapes of what modules
// import (compiler/emit/runtime-names.ts) until that is decided and recorded; layouts and
// memory conventions no test can see are for whoever changes them to weigh.

/** The contract this runtime implements; emitted modules carry the value they were compiled with. */
export const RUNTIME_CONTRACT = 1;

/** Thrown when a module was compiled for another runtime contract. */
export class RuntimeContractError extends Error {
  override name = 'RuntimeContractError';
}

/** Refuses a module compiled for another runtime contract, naming both and what to do. */
export function checkRuntime(moduleContract: number): void {
  if (moduleContract === RUNTIME_CONTRACT) return;
  throw new RuntimeContractError(
    `this model module was compiled for Kiln runtime contract ${moduleContract}, but the kiln/runtime installed here implements contract ${RUNTIME_CONTRACT}: recompile the model with the installed Kiln (kiln compile), or install the Kiln version that compiled it`,
  );
}
