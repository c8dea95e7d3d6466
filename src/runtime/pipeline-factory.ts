// Wires the pure stages to the config: one place that knows how decode, map and plan are
// built, shared by `run`, `replay`, `dlq redrive` and the benchmarks.
import type { CompiledConfig } from '../config/load-config.js';
import { err, ok } from '../core/types.js';
import { createConfluentSchemaRegistry, type SchemaRegistry } from '../adapters/registry/schema-registry.js';
import { createDecoder } from '../pipeline/decode/index.js';
import { compileMapping, loadMapping, mapEvent, type CompiledMapping } from '../pipeline/map/index.js';
import { coalesce, planOptionsFromMapping, planUser } from '../pipeline/plan/index.js';
import type { CoalesceFn, PlanFn } from '../pipeline/apply/user-applier.js';
import type { Decoder, MapFn } from './batch-processor.js';

export interface Pipeline {
  mapping: CompiledMapping;
  decoder: Decoder;
  map: MapFn;
  plan: PlanFn;
  coalesce: CoalesceFn;
  /** True when the mapping manages group memberships (reads need the user's groups). */
  manageGroups: boolean;
}

export async function loadCompiledMapping(path: string): Promise<CompiledMapping> {
  return compileMapping(await loadMapping(path));
}

export function pipelineFromMapping(mapping: CompiledMapping, decoder: Decoder): Pipeline {
  const options = planOptionsFromMapping(mapping);
  return {
    mapping,
    decoder,
    map: (event) => {
      const mapped = mapEvent(mapping, event);
      if (!mapped.ok) return err(mapped.error);
      return ok(mapped.value.kind === 'skip' ? { skip: mapped.value.reason } : { intents: mapped.value.intents });
    },
    plan: (current, intent, deletedVersion) => planUser(current, intent, options, deletedVersion),
    coalesce,
    manageGroups: mapping.spec.groups !== undefined || mapping.rolesTable !== undefined,
  };
}

export async function buildPipeline(config: CompiledConfig, registry?: SchemaRegistry): Promise<Pipeline> {
  const mapping = await loadCompiledMapping(config.mappingPath);
  const schemaRegistry =
    registry ??
    (config.schemaRegistry
      ? createConfluentSchemaRegistry({
          host: config.schemaRegistry.url,
          auth: config.schemaRegistry.username && config.schemaRegistry.password ? { username: config.schemaRegistry.username, password: config.schemaRegistry.password } : undefined,
        })
      : undefined);
  const decoder = createDecoder({ format: config.format, registry: schemaRegistry });
  return pipelineFromMapping(mapping, decoder);
}
