// What each data format gives before any check: row readers of inputs and labels with the sample shapes and dtypes the files declare.
import type { RowReader } from '../../runtime/data/rows.ts';

/** One split of a data set as read from its files (nothing checked against the model yet). */
export interface RawSplit {
  readonly x: RowReader;
  /** Dimensions of one input sample as stored (e.g. [3, 32, 32]); empty when the format has none (module data). */
  readonly xShape: readonly number[];
  readonly xDtype: string;
  /** The file (or thing) that holds the inputs, for messages. */
  readonly xName: string;
  readonly y: RowReader;
  /** Dimensions of one label: [] for a class id, [k] for a row of k values. */
  readonly yShape: readonly number[];
  readonly yDtype: string;
  readonly yName: string;
  /** Whether the inputs are read from a file in chunks rather than held in memory. */
  readonly streamed?: boolean;
}

/** A data set as found: its splits and what its format implies. */
export interface RawData {
  /** For the run's lines, e.g. `MNIST`, `CIFAR-10 (data/cifar)`, `x.npy`. */
  readonly description: string;
  readonly train: RawSplit;
  readonly test?: RawSplit;
  /** A separate validation split (files or the module's data). */
  readonly validation?: RawSplit;
  /** Scale applied unless --scale says otherwise (1/255 for uint8 image formats). */
  readonly defaultScale?: number;
  /** Inputs stored channels-first (CIFAR): a channels-last model gets them transposed. */
  readonly channelsFirst?: boolean;
  /** 28×28 single-channel digits (the predictions picture applies). */
  readonly digits?: boolean;
}

/** A split that holds ids or rows is a class-id split when its labels are integers of one value per sample. */
export const isIntDtype = (dtype: string): boolean => /^u?int|^bool$/.test(dtype);
