import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RACES } from '../../src/core/types';

test('three races are named', () => {
  assert.deepEqual([...RACES], ['race1', 'race2', 'race3']);
});
