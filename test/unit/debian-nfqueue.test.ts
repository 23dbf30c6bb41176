// Race 4 on real kernel sources: Debian's linux-source-6.1 (old nfqueue clash logic) and
// linux-source-6.12 (8af79d3edb5f). The packages are installed by scripts/install-ci-deps.sh;
// only the files detection reads are extracted, into a cache outside the repository. A missing
// package fails this test: it is never skipped.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectPath } from '../../src/core/detect';
import { debianTree } from './helpers/debian';

test('Debian linux-source-6.1: race 4 present (nfqueue clash logic in __nf_conntrack_update), races 1-3 fixed', async () => {
  const r = await detectPath(debianTree('6.1'), { history: false });
  assert.equal(r.races.race4.verdict, 'missing', r.races.race4.explain);
  const site = r.races.race4.evidence.find((e) => e.site.startsWith('race4.nfqueue-clash-logic'));
  assert.equal(site?.function, '__nf_conntrack_update');
  assert.ok(
    r.races.race4.evidence.some((e) => e.file.endsWith('nfnetlink_queue.c') && /nf_ct_hook->update\(\) on reinject/.test(e.site)),
    'the nfqueue reinject path is read',
  );
  for (const race of ['race1', 'race2', 'race3'] as const) assert.equal(r.races[race].verdict, 'fixed', race);
});

test('Debian linux-source-6.12: race 4 fixed by 8af79d3edb5f, races 1-3 fixed', async () => {
  const r = await detectPath(debianTree('6.12'), { history: false });
  assert.equal(r.races.race4.verdict, 'fixed', r.races.race4.explain);
  assert.equal(r.races.race4.variant, 'nfqueue-2024');
  assert.ok(!r.races.race4.evidence.some((e) => e.site.startsWith('race4.nfqueue-clash-logic')));
  for (const race of ['race1', 'race2', 'race3'] as const) assert.equal(r.races[race].verdict, 'fixed', race);
  assert.equal(r.races.race1.variant, 'reverse-2024');
});
