// Finite-difference gradient checks through several time steps (BPTT) of simpleRnn, lstm and gru,
// forward and backward in time (bidirectional), with respect to the input, every weight and the
// initial states: the harness compiles the gradients and compares them with central differences.
import { input } from '../../src/dsl/layers.ts';
import { gru, lstm, simpleRnn } from '../../src/dsl/recurrent.ts';
import { gradSuite } from '../grad/check.ts';
import { layerCase } from './helpers.ts';

const T = 4;
const F = 3;
const H = 2;

gradSuite('recurrent', 'gradients through time of the recurrent layers', [
  layerCase('rnn-bidirectional-seq', () => {
    const x = input([T, F], { name: 'x' });
    return { inputs: [x], output: simpleRnn(x, H, { bidirectional: true, returnSequences: true }) };
  }),
  layerCase('rnn-initial-state', () => {
    const x = input([T, F], { name: 'x' });
    const h0 = input([H], { name: 'h0' });
    return { inputs: [x, h0], output: simpleRnn(x, H, { initialState: [h0] }) };
  }),
  layerCase('lstm-bidirectional-seq', () => {
    const x = input([T, F], { name: 'x' });
    return { inputs: [x], output: lstm(x, H, { bidirectional: true, returnSequences: true }) };
  }),
  layerCase('lstm-states-last', () => {
    const x = input([T, F], { name: 'x' });
    const h0 = input([H], { name: 'h0' });
    const c0 = input([H], { name: 'c0' });
    return { inputs: [x, h0, c0], output: lstm(x, H, { initialState: [h0, c0], gateOrder: 'pytorch' }) };
  }),
  layerCase('gru-bidirectional-seq', () => {
    const x = input([T, F], { name: 'x' });
    return { inputs: [x], output: gru(x, H, { bidirectional: true, returnSequences: true }) };
  }),
  layerCase('gru-reset-before-stacked', () => {
    const x = input([T, F], { name: 'x' });
    return { inputs: [x], output: gru(x, H, { linearBeforeReset: false, layers: 2 }) };
  }),
]);
