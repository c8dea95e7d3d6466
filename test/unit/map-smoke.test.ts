import { mappingSchema } from '../../src/pipeline/map/mapping-schema.js';
test('smoke', () => { expect(mappingSchema.title).toBe('cognito-cdc-sync mapping'); });
