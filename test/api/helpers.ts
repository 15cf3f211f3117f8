import type { FastifyInstance } from 'fastify';
import { buildApi, type ApiOptions } from '../../src/api/server.ts';
import { FakeNodeServices } from './fake-services.ts';

export function makeApi(options: Partial<ApiOptions> = {}): { app: FastifyInstance; services: FakeNodeServices } {
  const services = (options.services as FakeNodeServices | undefined) ?? new FakeNodeServices();
  const app = buildApi({ logger: false, ...options, services });
  return { app, services };
}

export function bearer(token = 'admin-key'): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** A tiny but valid WebAssembly module header: the fake does not compile it. */
export const WASM = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
export const WASM_B64 = WASM.toString('base64');
