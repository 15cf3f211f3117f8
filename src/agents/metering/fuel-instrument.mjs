// @ts-check
// Fuel and memory-growth instrumentation of an agent module with binaryen. Plain JavaScript on purpose: it
// runs in a worker thread without tsx's loader, because importing binaryen (13 MB of JS) through tsx takes
// ~5 s instead of 0.3 s, and instrumenting (~2 s per MB) must not stall the node's event loop.
//
// What it adds (names under `__caxton_`, never imported from `caxton`, so the agent's ABI is unchanged):
// - global `__caxton_fuel` (mut i64, exported): the fuel of the current slice, set by the host before each
//   invocation. Each function entry, loop header and `if` arm subtracts the instruction count of the code it
//   starts (not descending into nested loops and arms, which charge for themselves); when the result is
//   negative it calls `__caxton_out_of_fuel`, which asks the host (import `__caxton_meter.refill`) for the
//   next slice, and traps with `unreachable` when the host gives none: the invocation's budget is spent, or
//   its wall-clock bound passed. A synchronous wasm call cannot be interrupted from JavaScript on the same
//   thread; a slice at a time is how the host gets to look at the clock (metering/fuel-meter.ts). A start
//   function runs on slices from the first charge (the fuel global starts at 0), so it is metered too.
// - global `__caxton_memory_limit` (mut i32, exported): pages the memory may reach, set by the host;
//   every memory.grow's delta goes through `__caxton_grow_check`, which traps (and sets `__caxton_trap` to
//   TRAP_MEMORY) when the memory would pass it, so growth past the agent's limit is MEMORY_EXHAUSTED rather
//   than a silent -1.
// Features beyond what this walker understands (GC, exceptions, tail calls, threads...) are refused: code
// it could not see could loop without being charged.
import binaryen from 'binaryen';

export const FUEL_GLOBAL = '__caxton_fuel';
export const TRAP_GLOBAL = '__caxton_trap';
export const MEMORY_LIMIT_GLOBAL = '__caxton_memory_limit';
export const BUDGET_GLOBAL = '__caxton_budget';
export const REFUEL_EXPORT = '__caxton_refuel';
export const USED_EXPORT = '__caxton_used_refill';
const GROW_CHECK = '__caxton_grow_check';
const OUT_OF_FUEL = '__caxton_out_of_fuel';
const CHARGE_BYTES = '__caxton_charge_bytes';
/**
 * memory.fill, memory.copy and memory.init cost 1 fuel per 2^BYTES_PER_FUEL_SHIFT bytes on top of their
 * instruction: one instruction may write 64 MiB (~10 ms), which a flat cost of 1 would let an agent repeat for
 * minutes per slice of fuel. 4 bytes per unit keeps a fill's fuel about in step with its time (~0.35 ns per unit).
 */
const BYTES_PER_FUEL_SHIFT = 2n;
const REFILL = '__caxton_refill';
export const METER_MODULE = '__caxton_meter';
export const REFILL_IMPORT = 'refill';
export const TRAP_MEMORY = 2;

const F = binaryen.Features;
/** What agents built by AssemblyScript, clang and TinyGo use, and all this walker knows how to meter. */
const SUPPORTED_FEATURES =
  F.MVP | F.MutableGlobals | F.NontrappingFPToInt | F.SignExt | F.BulkMemory | F.BulkMemoryOpt | F.SIMD128 |
  F.Multivalue | F.ReferenceTypes | F.ExtendedConst | F.CallIndirectOverlong;

/** @type {Map<number, string[]>} expression id → the info keys holding child expressions */
const CHILDREN = new Map([
  [binaryen.BlockId, ['children']],
  [binaryen.IfId, ['condition', 'ifTrue', 'ifFalse']],
  [binaryen.LoopId, ['body']],
  [binaryen.BreakId, ['condition', 'value']],
  [binaryen.SwitchId, ['condition', 'value']],
  [binaryen.CallId, ['operands']],
  [binaryen.CallIndirectId, ['target', 'operands']],
  [binaryen.LocalGetId, []],
  [binaryen.LocalSetId, ['value']],
  [binaryen.GlobalGetId, []],
  [binaryen.GlobalSetId, ['value']],
  [binaryen.LoadId, ['ptr']],
  [binaryen.StoreId, ['ptr', 'value']],
  [binaryen.ConstId, []],
  [binaryen.UnaryId, ['value']],
  [binaryen.BinaryId, ['left', 'right']],
  [binaryen.SelectId, ['ifTrue', 'ifFalse', 'condition']],
  [binaryen.DropId, ['value']],
  [binaryen.ReturnId, ['value']],
  [binaryen.MemorySizeId, []],
  [binaryen.MemoryGrowId, ['delta']],
  [binaryen.NopId, []],
  [binaryen.UnreachableId, []],
  [binaryen.SIMDExtractId, ['vec']],
  [binaryen.SIMDReplaceId, ['vec', 'value']],
  [binaryen.SIMDShuffleId, ['left', 'right']],
  [binaryen.SIMDTernaryId, ['a', 'b', 'c']],
  [binaryen.SIMDShiftId, ['vec', 'shift']],
  [binaryen.SIMDLoadId, ['ptr']],
  [binaryen.SIMDLoadStoreLaneId, ['ptr', 'vec']],
  [binaryen.MemoryInitId, ['dest', 'offset', 'size']],
  [binaryen.DataDropId, []],
  [binaryen.MemoryCopyId, ['dest', 'source', 'size']],
  [binaryen.MemoryFillId, ['dest', 'value', 'size']],
  [binaryen.RefNullId, []],
  [binaryen.RefIsNullId, ['value']],
  [binaryen.RefFuncId, []],
  [binaryen.RefEqId, ['left', 'right']],
  [binaryen.TableGetId, ['index']],
  [binaryen.TableSetId, ['index', 'value']],
  [binaryen.TableSizeId, []],
  [binaryen.TableGrowId, ['value', 'delta']],
  [binaryen.TupleMakeId, ['operands']],
  [binaryen.TupleExtractId, ['tuple']],
]);

/** Structure, not work: not charged. */
const FREE = new Set([binaryen.BlockId, binaryen.NopId]);

export class InstrumentError extends Error {}

/**
 * @param {number} expr
 * @returns {{ id: number, info: Record<string, unknown>, children: number[] }}
 */
function inspect(expr) {
  const id = binaryen.getExpressionId(expr);
  const keys = CHILDREN.get(id);
  if (!keys) throw new InstrumentError(`unsupported instruction (binaryen expression id ${id}): Caxton cannot meter it`);
  // Leaves are not asked for their info: binaryen.js has no wrapper for some (nop, unreachable) and throws.
  if (keys.length === 0) return { id, info: {}, children: [] };
  const info = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (binaryen.getExpressionInfo(expr)));
  /** @type {number[]} */
  const children = [];
  for (const key of keys) {
    const value = info[key];
    if (Array.isArray(value)) for (const c of value) { if (c) children.push(c); }
    else if (typeof value === 'number' && value !== 0) children.push(value);
  }
  return { id, info, children };
}

/**
 * A region starts at a function entry, a loop header or an `if` arm. Returns its own cost and the regions
 * nested in it (loop bodies and arms), which are charged where they start.
 * @param {number} root
 * @returns {{ cost: number, nested: { kind: 'loop' | 'ifTrue' | 'ifFalse', expr: number, child: number }[], grows: number[], bulk: number[] }}
 */
function region(root) {
  let cost = 0;
  /** @type {{ kind: 'loop' | 'ifTrue' | 'ifFalse', expr: number, child: number }[]} */
  const nested = [];
  /** @type {number[]} */
  const grows = [];
  /** @type {number[]} */
  const bulk = [];
  const stack = [root];
  while (stack.length > 0) {
    const expr = /** @type {number} */ (stack.pop());
    const { id, info, children } = inspect(expr);
    if (!FREE.has(id)) cost++;
    if (id === binaryen.LoopId) {
      nested.push({ kind: 'loop', expr, child: /** @type {number} */ (info.body) });
      continue;
    }
    if (id === binaryen.IfId) {
      stack.push(/** @type {number} */ (info.condition));
      nested.push({ kind: 'ifTrue', expr, child: /** @type {number} */ (info.ifTrue) });
      if (info.ifFalse) nested.push({ kind: 'ifFalse', expr, child: /** @type {number} */ (info.ifFalse) });
      continue;
    }
    if (id === binaryen.MemoryGrowId) grows.push(expr);
    // memory.init too: one instruction copies up to a whole data segment (20,000 of 1 MiB each took 2.9 s on 2%
    // of the default fuel, and never reached a wall-clock check).
    if (id === binaryen.MemoryFillId || id === binaryen.MemoryCopyId || id === binaryen.MemoryInitId) bulk.push(expr);
    for (const c of children) stack.push(c);
  }
  return { cost, nested, grows, bulk };
}

/**
 * @param {Uint8Array} bytes the deployed module (already validated against the ABI)
 * @returns {{ bytes: Uint8Array, functions: number, chargePoints: number }}
 */
export function instrumentFuel(bytes) {
  const mod = binaryen.readBinaryWithFeatures(bytes, SUPPORTED_FEATURES);
  try {
    mod.setFeatures(SUPPORTED_FEATURES);
    if (!mod.validate()) throw new InstrumentError('module uses WebAssembly features Caxton does not support (or is invalid)');
    for (const name of [FUEL_GLOBAL, TRAP_GLOBAL, MEMORY_LIMIT_GLOBAL, BUDGET_GLOBAL, REFUEL_EXPORT, USED_EXPORT, GROW_CHECK, OUT_OF_FUEL, CHARGE_BYTES]) {
      if (mod.getExport(name)) throw new InstrumentError(`export ${name} is reserved by Caxton`);
    }
    mod.addFunctionImport(REFILL, METER_MODULE, REFILL_IMPORT, binaryen.none, binaryen.i32);
    mod.addGlobal(FUEL_GLOBAL, binaryen.i64, true, mod.i64.const(0n));
    mod.addGlobal(TRAP_GLOBAL, binaryen.i32, true, mod.i32.const(0));
    mod.addGlobal(MEMORY_LIMIT_GLOBAL, binaryen.i32, true, mod.i32.const(65536));
    mod.addGlobalExport(FUEL_GLOBAL, FUEL_GLOBAL);
    mod.addGlobalExport(TRAP_GLOBAL, TRAP_GLOBAL);
    mod.addGlobalExport(MEMORY_LIMIT_GLOBAL, MEMORY_LIMIT_GLOBAL);

    /** @param {number} cost */
    const charge = (cost) =>
      mod.block(null, [
        mod.global.set(FUEL_GLOBAL, mod.i64.sub(mod.global.get(FUEL_GLOBAL, binaryen.i64), mod.i64.const(BigInt(cost)))),
        mod.if(mod.i64.lt_s(mod.global.get(FUEL_GLOBAL, binaryen.i64), mod.i64.const(0n)), mod.call(OUT_OF_FUEL, [], binaryen.none)),
      ], binaryen.none);
    /** @param {number} cost @param {number} body */
    const charged = (cost, body) => mod.block(null, [charge(Math.max(cost, 1)), body], binaryen.getExpressionType(body));

    let chargePoints = 0;
    let growCheckNeeded = false;
    let bulkChargeNeeded = false;
    const defined = [];
    for (let i = 0; i < mod.getNumFunctions(); i++) {
      const fn = mod.getFunctionByIndex(i);
      if (binaryen.getFunctionInfo(fn).module === '') defined.push(fn);
    }
    for (const fn of defined) {
      const body = binaryen.Function.getBody(fn);
      if (!body) continue;
      // Regions are measured before any is rewritten; rewriting only replaces a loop's body or an arm in place.
      /** @type {{ cost: number, apply: (block: number) => void, child: number }[]} */
      const rewrites = [];
      /** @type {{ child: number, apply: (block: number) => void }[]} */
      const pending = [{ child: body, apply: (b) => binaryen.Function.setBody(fn, b) }];
      while (pending.length > 0) {
        const { child, apply } = /** @type {{ child: number, apply: (block: number) => void }} */ (pending.pop());
        const r = region(child);
        rewrites.push({ cost: r.cost, apply, child });
        if (r.grows.length > 0) growCheckNeeded = true;
        for (const grow of r.grows) {
          binaryen.MemoryGrow.setDelta(grow, mod.call(GROW_CHECK, [binaryen.MemoryGrow.getDelta(grow)], binaryen.i32));
        }
        // The size operand is evaluated last, so charging inside it keeps the order of the operands' effects.
        for (const op of r.bulk) {
          const kind = binaryen.getExpressionId(op);
          const Op = kind === binaryen.MemoryFillId ? binaryen.MemoryFill : kind === binaryen.MemoryInitId ? binaryen.MemoryInit : binaryen.MemoryCopy;
          Op.setSize(op, mod.call(CHARGE_BYTES, [Op.getSize(op)], binaryen.i32));
          bulkChargeNeeded = true;
        }
        for (const n of r.nested) {
          const target = n.expr;
          const apply =
            n.kind === 'loop' ? (/** @type {number} */ b) => binaryen.Loop.setBody(target, b)
              : n.kind === 'ifTrue' ? (/** @type {number} */ b) => binaryen.If.setIfTrue(target, b)
                : (/** @type {number} */ b) => binaryen.If.setIfFalse(target, b);
          pending.push({ child: n.child, apply });
        }
      }
      for (const w of rewrites) w.apply(charged(w.cost, w.child));
      chargePoints += rewrites.length;
    }
    // Added after the walk: Caxton's own functions are not charged.
    addBudgetFunctions(mod);
    addOutOfFuel(mod);
    if (growCheckNeeded) addGrowCheck(mod);
    if (bulkChargeNeeded) addChargeBytes(mod);
    if (!mod.validate()) throw new InstrumentError('instrumented module does not validate (a bug in Caxton: report it)');
    return { bytes: mod.emitBinary(), functions: defined.length, chargePoints };
  } finally {
    mod.dispose();
  }
}

/**
 * The per-invocation calls, as wasm functions: setting or reading an i64 global from JavaScript goes through
 * a BigInt each time (~1 µs per message measured); a call without i64 at the boundary costs nanoseconds.
 * `__caxton_refuel()` fills the tank from `__caxton_budget` (set once per instance). `__caxton_used_refill()`
 * is the fuel the last invocation used, as f64 (all of the budget when it ran out), and fills the tank for the
 * next one: one call between two invocations instead of two.
 */
function addBudgetFunctions(/** @type {binaryen.Module} */ mod) {
  mod.addGlobal(BUDGET_GLOBAL, binaryen.i64, true, mod.i64.const(0n));
  mod.addGlobalExport(BUDGET_GLOBAL, BUDGET_GLOBAL);
  const fuel = () => mod.global.get(FUEL_GLOBAL, binaryen.i64);
  const budget = () => mod.global.get(BUDGET_GLOBAL, binaryen.i64);
  mod.addFunction(REFUEL_EXPORT, binaryen.none, binaryen.none, [], mod.global.set(FUEL_GLOBAL, budget()));
  mod.addFunctionExport(REFUEL_EXPORT, REFUEL_EXPORT);
  const used = mod.if(mod.i64.lt_s(fuel(), mod.i64.const(0n)), mod.f64.convert_s.i64(budget()), mod.f64.convert_s.i64(mod.i64.sub(budget(), fuel())));
  const refill = mod.global.set(FUEL_GLOBAL, budget());
  mod.addFunction(USED_EXPORT, binaryen.none, binaryen.f64, [binaryen.f64], mod.block(null, [mod.local.set(0, used), refill, mod.local.get(0, binaryen.f64)], binaryen.f64));
  mod.addFunctionExport(USED_EXPORT, USED_EXPORT);
}

/**
 * `__caxton_out_of_fuel`: adds slices from the host until the fuel is not negative (one region may cost more
 * than a slice); traps when the host answers 0. Called only when a slice ran out: ~1 call per 10^6 fuel.
 */
function addOutOfFuel(/** @type {binaryen.Module} */ mod) {
  const fuel = () => mod.global.get(FUEL_GLOBAL, binaryen.i64);
  const slice = () => mod.local.get(0, binaryen.i32);
  const body = mod.loop('refill', mod.block(null, [
    mod.local.set(0, mod.call(REFILL, [], binaryen.i32)),
    mod.if(mod.i32.eqz(slice()), mod.unreachable()),
    mod.global.set(FUEL_GLOBAL, mod.i64.add(fuel(), mod.i64.extend_u(slice()))),
    mod.break('refill', mod.i64.lt_s(fuel(), mod.i64.const(0n))),
  ], binaryen.none));
  mod.addFunction(OUT_OF_FUEL, binaryen.none, binaryen.none, [binaryen.i32], body);
}

/** `(func (param $size i32) (result i32))`: charges size >> BYTES_PER_FUEL_SHIFT fuel, answers size. */
function addChargeBytes(/** @type {binaryen.Module} */ mod) {
  const fuel = () => mod.global.get(FUEL_GLOBAL, binaryen.i64);
  const size = () => mod.local.get(0, binaryen.i32);
  const body = mod.block(null, [
    mod.global.set(FUEL_GLOBAL, mod.i64.sub(fuel(), mod.i64.shr_u(mod.i64.extend_u(size()), mod.i64.const(BYTES_PER_FUEL_SHIFT)))),
    mod.if(mod.i64.lt_s(fuel(), mod.i64.const(0n)), mod.call(OUT_OF_FUEL, [], binaryen.none)),
    size(),
  ], binaryen.i32);
  mod.addFunction(CHARGE_BYTES, binaryen.i32, binaryen.i32, [], body);
}

/** `(func (param $delta i32) (result i32))`: traps when memory.size + delta would pass the limit. */
function addGrowCheck(/** @type {binaryen.Module} */ mod) {
  const u64 = (/** @type {number} */ e) => mod.i64.extend_u(e);
  const over = mod.i64.gt_u(
    mod.i64.add(u64(mod.memory.size()), u64(mod.local.get(0, binaryen.i32))),
    u64(mod.global.get(MEMORY_LIMIT_GLOBAL, binaryen.i32)),
  );
  const body = mod.block(null, [
    mod.if(over, mod.block(null, [mod.global.set(TRAP_GLOBAL, mod.i32.const(TRAP_MEMORY)), mod.unreachable()], binaryen.unreachable)),
    mod.local.get(0, binaryen.i32),
  ], binaryen.i32);
  mod.addFunction(GROW_CHECK, binaryen.i32, binaryen.i32, [], body);
}
