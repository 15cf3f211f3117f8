// @ts-check
// The worker thread that instruments modules (see fuel-instrument.mjs for why it is plain JavaScript and a
// thread of its own). One request at a time: {id, bytes} → {id, bytes} or {id, error, refused}.
import { parentPort } from 'node:worker_threads';
import { InstrumentError, instrumentFuel } from './fuel-instrument.mjs';

parentPort?.on('message', (/** @type {{ id: number, bytes: Uint8Array }} */ { id, bytes }) => {
  try {
    const result = instrumentFuel(bytes);
    parentPort?.postMessage({ id, bytes: result.bytes, chargePoints: result.chargePoints }, [result.bytes.buffer]);
  } catch (err) {
    // binaryen aborts on malformed input with a RuntimeError whose message is its diagnostic.
    const refused = err instanceof InstrumentError || (err instanceof Error && /Aborted|parse|invalid/i.test(err.message));
    parentPort?.postMessage({ id, error: err instanceof Error ? (refused ? err.message : String(err.stack)) : String(err), refused });
    // After an abort binaryen's own state is unusable: end this thread, the next request starts a fresh one.
    if (!(err instanceof InstrumentError)) process.exit(1);
  }
});
