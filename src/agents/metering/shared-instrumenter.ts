// One instrumentation worker per process: every ModuleCache of the node (and of tests) shares it, so a
// process never loads binaryen twice.
import { FuelInstrumenter } from './fuel-instrumenter.ts';

let shared: FuelInstrumenter | undefined;

export function sharedFuelInstrumenter(): FuelInstrumenter {
  shared ??= new FuelInstrumenter();
  return shared;
}
