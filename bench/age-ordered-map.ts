// What trimming a bounded map at its bound costs per insert: a plain Map trimmed with `keys().next()` (the
// old way, which walks the deleted slots V8 leaves at the front of its order) against AgeOrderedMap.shift(),
// at the bound of RemoteAwaits and HandoverLedger (100,000), with and without deletes of young entries between.
// Also the cost below the bound (set and delete at once), where the plain Map has no trim to pay.
// Run: npx tsx bench/age-ordered-map.ts [bound] [insertsPerRun]   (JSON lines: medians of 5 runs, ns per insert)
import { AgeOrderedMap } from '../src/messaging/age-ordered-map.ts';
import { median } from './lib/stats.ts';

const BOUND = Number(process.argv[2] ?? 100_000);
const INSERTS = Number(process.argv[3] ?? 20_000);
const RUNS = 5;

interface Bounded {
  set(key: string, value: number): void;
  delete(key: string): void;
  trim(): void;
}

function plainMap(): Bounded {
  const map = new Map<string, number>();
  return {
    set: (key, value) => {
      map.delete(key);
      map.set(key, value);
    },
    delete: (key) => map.delete(key),
    trim: () => {
      while (map.size > BOUND) map.delete(map.keys().next().value!);
    },
  };
}

function ageOrdered(): Bounded {
  const map = new AgeOrderedMap<string, number>();
  return {
    set: (key, value) => map.set(key, value),
    delete: (key) => map.delete(key),
    trim: () => {
      while (map.size > BOUND) map.shift();
    },
  };
}

/** Fills to the bound, then times INSERTS inserts at the bound; every `deleteEvery`-th insert deletes a young entry. */
function run(make: () => Bounded, deleteEvery: number): number {
  const map = make();
  let i = 0;
  for (; i < BOUND; i++) map.set(`k${i}`, i);
  const start = process.hrtime.bigint();
  for (const end = i + INSERTS; i < end; i++) {
    map.set(`k${i}`, i);
    if (deleteEvery > 0 && i % deleteEvery === 0) map.delete(`k${i - 1}`);
    map.trim();
  }
  return Number(process.hrtime.bigint() - start) / INSERTS;
}

/** Below the bound: each entry set and deleted at once (a request and its answer), the structure's own cost. */
function churn(make: () => Bounded): number {
  const map = make();
  const start = process.hrtime.bigint();
  for (let i = 0; i < INSERTS * 10; i++) {
    map.set(`k${i}`, i);
    map.delete(`k${i}`);
    map.trim();
  }
  return Number(process.hrtime.bigint() - start) / (INSERTS * 10);
}

{
  const plain: number[] = [];
  const ordered: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    plain.push(churn(plainMap));
    ordered.push(churn(ageOrdered));
  }
  console.log(JSON.stringify({ figure: 'bounded_map_ns_per_set_and_delete_below_bound', pairs: INSERTS * 10, runs: RUNS, map: Math.round(median(plain)), age_ordered_map: Math.round(median(ordered)) }));
}

for (const deleteEvery of [0, 2]) {
  const plain: number[] = [];
  const ordered: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    plain.push(run(plainMap, deleteEvery));
    ordered.push(run(ageOrdered, deleteEvery));
  }
  console.log(
    JSON.stringify({
      figure: 'bounded_map_ns_per_insert_at_bound',
      bound: BOUND,
      inserts: INSERTS,
      delete_every: deleteEvery,
      runs: RUNS,
      map_keys_next: Math.round(median(plain)),
      age_ordered_map: Math.round(median(ordered)),
    }),
  );
}
