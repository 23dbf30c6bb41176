// Bad inputs get a clear verdict or message, never an exception and never a guessed "fixed".

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectBuffer, detectPath, TargetError } from '../../src/core/detect';
import { generateConntrackCore, generateNatCore } from '../../src/core/fixtures/generate';
import type { DetectionResult } from '../../src/core/types';
import { tmpDir, writeFile } from './helpers';

const noneFixed = (r: DetectionResult): void => {
  for (const race of ['race1', 'race2', 'race3'] as const)
    assert.notEqual(r.races[race].verdict, 'fixed', `${race} must not be guessed fixed`);
};

test('empty file', async () => {
  const r = await detectBuffer(new Uint8Array(), 'nf_conntrack_core.c');
  assert.equal(r.kernelFile, false);
  assert.match(r.reason!, /empty/);
  noneFixed(r);
});

test('binary file', async () => {
  const buf = Buffer.alloc(4096);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 7) & 0xff;
  const r = await detectBuffer(buf, 'nf_conntrack_core.c');
  assert.equal(r.kernelFile, false);
  assert.match(r.reason!, /binary/);
  noneFixed(r);
});

test('non-UTF-8 file is read as Latin-1 and still analysed', async () => {
  const f = generateConntrackCore({ era: '4.15', race1: 'upstream', fullSize: false });
  const text = f.text.replace('#include <linux/types.h>', '/* Copyright J\xf6rg M\xfcller */\n#include <linux/types.h>');
  const r = await detectBuffer(Buffer.from(text, 'latin1'), 'nf_conntrack_core.c');
  assert.equal(r.kernelFile, true);
  assert.match(r.reason!, /not valid UTF-8/);
  assert.equal(r.races.race1.verdict, 'fixed');
});

test('10 MB file is refused with its size', async () => {
  const r = await detectBuffer(Buffer.alloc(10 * 1024 * 1024, 0x61), 'nf_conntrack_core.c');
  assert.equal(r.kernelFile, false);
  assert.match(r.reason!, /10\.0 MiB/);
  noneFixed(r);
});

test('truncated file: the cut function is unknown, with the reason', async () => {
  const f = generateConntrackCore({ era: '4.19', race1: 'upstream', race2: 'upstream', fullSize: false });
  const cut = f.text.slice(0, f.text.indexOf('NF_CT_STAT_INC_ATOMIC(net, found)'));
  const r = await detectBuffer(Buffer.from(cut), 'nf_conntrack_core.c');
  assert.equal(r.kernelFile, true);
  assert.equal(r.races.race1.verdict, 'fixed', 'race 1 lives before the cut');
  assert.equal(r.races.race2.verdict, 'unknown');
  assert.match(r.races.race2.explain, /truncated/);
});

test('another kernel C file is not taken for nf_conntrack_core.c', async () => {
  const r = await detectBuffer(Buffer.from(generateNatCore({ azure952939: false })), 'nf_nat_core.c');
  assert.equal(r.kernelFile, false);
  assert.match(r.reason!, /not nf_conntrack_core\.c/);
  noneFixed(r);
});

test('a C file that is not C at all (prose) gets kernelFile false', async () => {
  const r = await detectBuffer(Buffer.from('Hello, this is a README.\nNothing to see.\n'), 'x.c');
  assert.equal(r.kernelFile, false);
});

test('the conntrack core with its resolver reshaped beyond recognition is unknown, not fixed', async () => {
  const f = generateConntrackCore({ era: '4.15', race1: 'upstream', fullSize: false });
  const odd = f.text
    .replace(/\(\(ct->status & IPS_NAT_DONE_MASK\) == 0\) \|\|/, 'vendor_may_merge(ct) ||')
    .replace(/l4proto->allow_clash &&\n\t {4}!nf_ct_is_dying/, 'l4proto->allow_clash && !nf_ct_is_dying');
  const r = await detectBuffer(Buffer.from(odd), 'nf_conntrack_core.c');
  assert.equal(r.races.race1.verdict, 'unknown');
  assert.match(r.races.race1.explain, /neither the old nor the fixed/);
});

test('a directory without the file gives a clear message', async () => {
  const d = tmpDir();
  await assert.rejects(
    detectPath(d),
    (e: Error) => e instanceof TargetError && /without net\/netfilter\/nf_conntrack_core\.c/.test(e.message),
  );
  await assert.rejects(detectPath(path.join(d, 'nope')), (e: Error) => e instanceof TargetError && /no such file/.test(e.message));
});

test('a kernel tree directory (no git) is analysed from source alone', async () => {
  const d = tmpDir();
  writeFile(
    d,
    'net/netfilter/nf_conntrack_core.c',
    generateConntrackCore({ era: '5.0', race1: 'upstream', race2: 'upstream', fullSize: false }).text,
  );
  writeFile(d, 'net/netfilter/nf_nat_core.c', generateNatCore({ azure952939: false }));
  const r = await detectPath(d);
  assert.equal(r.races.race1.verdict, 'fixed');
  assert.equal(r.races.race2.variant, '4e35c1cb9460');
  assert.equal(r.history?.available, false);
  assert.deepEqual(r.related?.[0].findings, []);
  fs.rmSync(d, { recursive: true });
});

test('the azure 952939 hypothesis in nf_nat_core.c is reported as such', async () => {
  const d = tmpDir();
  writeFile(d, 'net/netfilter/nf_conntrack_core.c', generateConntrackCore({ era: '4.15', race1: 'upstream', fullSize: false }).text);
  writeFile(d, 'net/netfilter/nf_nat_core.c', generateNatCore({ azure952939: true }));
  const r = await detectPath(d, { history: false });
  assert.equal(r.races.race2.verdict, 'fixed');
  assert.equal(r.races.race2.variant, 'azure-952939');
  assert.match(r.races.race2.explain, /hypothesis/);
  const ev = r.races.race2.evidence.find((e) => e.file.endsWith('nf_nat_core.c'))!;
  assert.equal(ev.function, 'nf_nat_same_origin_reply');
  fs.rmSync(d, { recursive: true });
});
