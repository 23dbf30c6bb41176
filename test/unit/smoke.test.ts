import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RACES } from '../../src/core/types';

test('four races are named (race 4: the 2024 nfqueue race)', () => {
  assert.deepEqual([...RACES], ['race1', 'race2', 'race3', 'race4']);
});
