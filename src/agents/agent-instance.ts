// One live instance of an agent module: the exports the runtime calls, with the message copy-in between
// agent_alloc and handle_message. It does not catch traps: the runtime decides what a trap means.
import type { InstanceHost } from './host-imports.ts';
import type { MeteredTrapCause } from './metering/fuel-meter.ts';
import { FuelMeter } from './metering/fuel-meter.ts';
import { METER_MODULE } from './metering/metering-names.ts';
import type { CompiledAgentModule } from './module-cache.ts';
import { HOST_MEMORY_MODULE, HOST_MEMORY_NAME } from './metering/memory-import.ts';
import { writeText } from './buffer-text.ts';
import { wasiImports } from './wasi-shim.ts';
import { describeError } from '../errors.ts';

/** agent_alloc gave 0 or a range outside memory: the delivery fails as an agent error, not a trap. */
export class AgentAllocError extends Error {
  constructor(ptr: number, len: number) {
    super(`agent_alloc(${len}) returned ${ptr === 0 ? '0' : `${ptr}, outside memory`}`);
    this.name = 'AgentAllocError';
  }
}

/** Instantiation (a start function) trapped; `meterCause` says whether metering stopped it. */
export class InstantiateError extends Error {
  constructor(
    readonly error: unknown,
    readonly meterCause: MeteredTrapCause,
  ) {
    super(describeError(error));
    this.name = 'InstantiateError';
  }
}

type Export0 = () => unknown;

/** Whether the compiled module asks for the meter's refill import (it was instrumented). */
const metered = new WeakMap<WebAssembly.Module, boolean>();
function isMetered(module: WebAssembly.Module): boolean {
  let answer = metered.get(module);
  if (answer === undefined) {
    answer = WebAssembly.Module.imports(module).some((i) => i.module === METER_MODULE);
    metered.set(module, answer);
  }
  return answer;
}

export class AgentInstance {
  readonly host: InstanceHost;
  readonly compiled: CompiledAgentModule;
  private readonly alloc: (len: number) => number;
  private readonly handle: (ptr: number, len: number) => number;
  private readonly initialize: Export0 | undefined;
  private readonly agentInit: (() => number) | undefined;
  private readonly timer: ((id: number) => void) | undefined;
  private readonly agentShutdown: Export0 | undefined;
  /** Sets each invocation's fuel budget and tells fuel and memory traps apart; null when not instrumented. */
  readonly meter: FuelMeter | null;
  /** The agent's linear memory (the one handed in, when the compiled module imports it). */
  readonly memory: WebAssembly.Memory;

  /**
   * Instantiates (a start function may trap: InstantiateError). `fuel` is the budget of each invocation;
   * `memory`, zeroed and of the module's initial size, is required when compiled.importedMemory is set.
   */
  constructor(compiled: CompiledAgentModule, host: InstanceHost, fuel = Number.MAX_SAFE_INTEGER, memory?: WebAssembly.Memory) {
    this.compiled = compiled;
    this.host = host;
    const imports: WebAssembly.Imports = { caxton: host.caxtonImports() };
    const meter = isMetered(compiled.module) ? new FuelMeter(fuel, host.bindings.limits.maxInvocationMs) : null;
    if (meter) {
      imports[METER_MODULE] = meter.imports();
      host.chargeTo(meter);
    }
    if (compiled.wasiImports.length > 0) imports.wasi_snapshot_preview1 = wasiImports(host, compiled.wasiImports);
    if (compiled.importedMemory !== null) {
      const { initialPages: initial, maximumPages: maximum } = compiled.importedMemory;
      imports[HOST_MEMORY_MODULE] = { [HOST_MEMORY_NAME]: memory ?? new WebAssembly.Memory({ initial, maximum }) };
    }
    let exports: WebAssembly.Exports;
    try {
      exports = new WebAssembly.Instance(compiled.module, imports).exports;
    } catch (err) {
      throw new InstantiateError(err, meter?.cause() ?? null);
    }
    this.memory = exports.memory as WebAssembly.Memory;
    host.attachMemory(this.memory);
    this.alloc = exports.agent_alloc as (len: number) => number;
    this.handle = exports.handle_message as (ptr: number, len: number) => number;
    this.initialize = exports._initialize as Export0 | undefined;
    this.agentInit = exports.agent_init as (() => number) | undefined;
    this.timer = exports.handle_timer as ((id: number) => void) | undefined;
    this.agentShutdown = exports.agent_shutdown as Export0 | undefined;
    this.meter = meter?.attach(exports, compiled.memoryMaxPages) ? meter : null;
  }

  /** `_initialize` then `agent_init`; returns agent_init's result (0 when the export is absent). */
  init(): number {
    this.meter?.refuel();
    this.initialize?.();
    return this.agentInit ? this.agentInit() : 0;
  }

  /**
   * Copies one message (JSON text) into memory and calls handle_message; returns its result. `byteLength`
   * is the text's UTF-8 length when the caller knows it (-1: measured here).
   */
  deliver(json: string, byteLength = -1): number {
    this.meter?.refuel();
    const len = byteLength >= 0 ? byteLength : Buffer.byteLength(json, 'utf8');
    const ptr = this.alloc(len) >>> 0;
    if (ptr === 0 || !this.host.inRange(ptr, len)) throw new AgentAllocError(ptr, len);
    // Encoded straight into the agent's memory: no intermediate byte array per message. As many bytes as
    // UTF-16 units means ASCII, where latin1 writes the same bytes at about half the cost of utf8.
    writeText(this.host.bytes(), json, ptr, len, len === json.length);
    return this.handle(ptr, len);
  }

  get hasTimerHandler(): boolean {
    return this.timer !== undefined;
  }

  handleTimer(timerId: number): void {
    this.meter?.refuel();
    this.timer?.(timerId);
  }

  shutdown(): void {
    this.meter?.refuel();
    this.agentShutdown?.();
  }
}
