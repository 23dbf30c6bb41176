import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MODEL_VARIANTS, modelVariantFromDetection } from '../../src/core/model/variants';
import type { DetectionResult, RaceVerdict, Verdict, VariantId } from '../../src/core/types';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const rv = (verdict: Verdict, variant: VariantId | null = null): RaceVerdict => ({ verdict, variant, evidence: [], explain: '' });
const det = (o: {
  r1?: RaceVerdict;
  r2?: RaceVerdict;
  r3?: RaceVerdict;
  present?: VariantId[];
  rework?: boolean | 'unknown';
  reverse?: boolean;
  zone?: boolean;
}): DetectionResult => ({
  file: 'nf_conntrack_core.c',
  kernelFile: true,
  races: { race1: o.r1 ?? rv('missing'), race2: o.r2 ?? rv('missing'), race3: o.r3 ?? rv('missing'), race4: rv('not-applicable') },
  zoneFollowup: { present: o.zone ?? false, evidence: [], explain: '' },
  rework2020: { present: o.rework ?? false, evidence: [], explain: '' },
  reverse2024: { present: o.reverse ?? false, evidence: [], explain: '' },
  variantsPresent: o.present ?? [],
  functions: {},
  lines: 1,
});

test('detection -> model variant', () => {
  assert.equal(modelVariantFromDetection(det({})).variant, 'none');
  assert.equal(modelVariantFromDetection(det({ r1: rv('fixed', 'ed07d9a021df') })).variant, 'ed07d9a');
  assert.equal(modelVariantFromDetection(det({ r2: rv('fixed', '4e35c1cb9460') })).variant, '4e35c1cb');
  assert.equal(modelVariantFromDetection(det({ r1: rv('fixed', 'ed07d9a021df'), r2: rv('fixed', '4e35c1cb9460') })).variant, 'both');
  assert.equal(
    modelVariantFromDetection(det({ r1: rv('fixed', 'ed07d9a021df'), r2: rv('fixed', '4e35c1cb9460'), zone: true })).variant,
    'both+zone',
  );
  const az = modelVariantFromDetection(det({ r1: rv('fixed', 'azure-937963'), r2: rv('fixed', 'azure-952939') }));
  assert.equal(az.variant, 'azure');
  assert.ok(az.caveats.some((c) => /hypothesis/.test(c)));
  assert.equal(az.exact, false);
  assert.equal(
    modelVariantFromDetection(
      det({ r1: rv('fixed'), r2: rv('fixed', '4e35c1cb9460'), r3: rv('fixed', 'rework-2020'), rework: true, zone: true }),
    ).variant,
    'rework2020',
  );
  assert.equal(modelVariantFromDetection(det({ rework: true, reverse: true, present: ['reverse-2024'] })).variant, 'reverse2024');
});

test('unknown / partial verdicts are surfaced as caveats, never silently fixed', () => {
  const m = modelVariantFromDetection(det({ r1: rv('unknown'), r2: rv('partial', '4e35c1cb9460') }));
  assert.equal(m.variant, 'none');
  assert.equal(m.exact, false);
  assert.ok(m.caveats.some((c) => c.startsWith('race1: verdict unknown')));
  assert.ok(m.caveats.some((c) => c.startsWith('race2: verdict partial')));
  const nk = modelVariantFromDetection({ ...det({}), kernelFile: false, reason: 'no such functions' });
  assert.ok(nk.caveats[0].includes('not an nf_conntrack_core.c'));
  const ru = modelVariantFromDetection(det({ rework: 'unknown' }));
  assert.ok(ru.caveats.some((c) => c.startsWith('rework2020: presence unknown')));
});

test('variant list: labels, 952939 labelled as hypothesis', () => {
  assert.equal(MODEL_VARIANTS.length, 8);
  const az = MODEL_VARIANTS.find((v) => v.id === 'azure')!;
  assert.match(az.label, /HYPOTHESIS/);
  assert.ok(az.hypothesis);
});

test('the model core has no vscode import and no per-variant probability constants', () => {
  const dir = path.join(__dirname, '../../../src/core/model');
  for (const f of readdirSync(dir)) {
    const src = readFileSync(path.join(dir, f), 'utf8');
    assert.ok(!/from ['"]vscode['"]/.test(src), f);
    assert.ok(!/(drop|clash|race)\w*(prob|rate)\w*\s*[:=]\s*0?\.\d/i.test(src), f);
  }
});
