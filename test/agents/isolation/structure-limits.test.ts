import { describe, expect, it } from 'vitest';
import { validateAgentModule } from '../../../src/agents/module-validator.ts';
import { ModuleCache } from '../../../src/agents/module-cache.ts';
import { agentModule, wat } from '../fixtures.ts';

const limits = { max_functions: 50_000, max_imports: 1_000, max_exports: 10_000, max_tables: 10, max_data_segments: 10_000, max_globals: 10_000 };

describe('deploy-time structure limits', () => {
  it('refuses more functions, imports, globals ... than configured, naming both numbers', async () => {
    const bytes = await agentModule(() => ({}));
    expect(() => validateAgentModule(bytes, { memory_pages: 256 }, limits)).not.toThrow();
    expect(() => validateAgentModule(bytes, { memory_pages: 256 }, { ...limits, max_functions: 2 })).toThrow(/module has \d+ functions, above this node's limit of 2 \(agents.max_functions\)/);
    expect(() => validateAgentModule(bytes, { memory_pages: 256 }, { ...limits, max_imports: 3 })).toThrow(/module has 8 imports, above this node's limit of 3/);
    expect(() => validateAgentModule(bytes, { memory_pages: 256 }, { ...limits, max_globals: 0 })).toThrow(/globals, above this node's limit of 0/);
  });

  it('refuses a module exporting a name the metering reserves', async () => {
    const bytes = await wat(`(module (memory (export "memory") 1) (global (export "__caxton_fuel") (mut i64) (i64.const 0))
      (func (export "agent_alloc") (param i32) (result i32) (i32.const 8))
      (func (export "handle_message") (param i32 i32) (result i32) (i32.const 0)))`);
    await expect(new ModuleCache().load(bytes)).rejects.toMatchObject({ code: 'INVALID_MODULE', message: expect.stringContaining('__caxton_fuel is reserved') });
  });
});
