// How a parameter is initialised; the runtime's initialisers implement exactly these kinds.
export type { InitSpec } from '../../../runtime/init.ts';
