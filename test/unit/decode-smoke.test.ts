import { ok } from '../../src/core/types.js';
test('smoke', () => { expect(ok(1)).toEqual({ ok: true, value: 1 }); });
