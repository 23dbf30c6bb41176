// Every mutant of the fuzz space (test/unit/helpers/fuzz.ts allMutants: line deletions,
// every bit of every fix-site byte, preprocessor lines, truncations) on real kernel files and
// on the generator's fully fixed file of every era. Prints, per file, mutants run, verdicts of
// the races whose fix site a mutant destroyed, crashes and "fixed although destroyed"
// failures; exits 1 on any failure. Too slow for `npm test` (minutes), hence a script:
//
//   npm run fuzz:detect                         (real files we have + every generated era)
//   node scripts/fuzz-detect.mjs FILE...        (only these files, after npm run compile-tests)
//   FUZZ_GENERATED=0 npm run fuzz:detect        (real files only)
//
// Real files: Debian linux-source-6.1 and 6.12 (extracted to ~/.cache by the test helper,
// never into the repository) and /work/k414 or $K414 (a 4.14.67 tree) when present.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const OUT = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'out');
const need = (p) => {
  const f = path.join(OUT, p);
  if (!fs.existsSync(f)) {
    console.error(`${f} is missing: run npm run compile-tests first`);
    process.exit(2);
  }
  return require(f);
};
const { allMutants, checkMutant, FUZZ_RACES, newTally, spansOf, unfixedSpans } = need('test/unit/helpers/fuzz.js');
const { detectSource } = need('src/core/detect/source.js');
const { debianTree } = need('test/unit/helpers/debian.js');
const { ERA_TRAITS, ERAS, generateConntrackCore } = need('src/core/fixtures/generate.js');

const CORE = 'net/netfilter/nf_conntrack_core.c';
const inputs = [];
if (process.argv.length > 2) {
  for (const f of process.argv.slice(2)) inputs.push({ label: f, text: fs.readFileSync(f, 'latin1') });
} else {
  for (const v of ['6.1', '6.12']) {
    try {
      inputs.push({ label: `Debian linux-source-${v}`, text: fs.readFileSync(path.join(debianTree(v), CORE), 'latin1') });
    } catch (e) {
      console.log(`skip Debian ${v}: ${e.message}`);
    }
  }
  const k414 = path.join(process.env.K414 ?? '/work/k414', CORE);
  if (fs.existsSync(k414)) inputs.push({ label: 'linux 4.14.67', text: fs.readFileSync(k414, 'latin1') });
  if (process.env.FUZZ_GENERATED !== '0')
    for (const era of ERAS.filter((e) => !ERA_TRAITS[e].noResolver))
      inputs.push({
        label: `generated ${era}`,
        text: generateConntrackCore({ era, race1: 'upstream', race2: 'upstream', zone: true, fullSize: false }).text,
      });
}

const total = newTally();
const t0 = performance.now();
for (const { label, text } of inputs) {
  const spans = spansOf(text);
  const base = await detectSource(text, 'nf_conntrack_core.c');
  const notFixed = FUZZ_RACES.filter((r) => base.races[r].verdict !== 'fixed');
  const tally = newTally();
  const t = performance.now();
  // a file with no fix site: mutate where it keeps the old shapes; nothing may read fixed
  const targets = spans.all.length ? spans.all : unfixedSpans(text);
  for (const m of allMutants(text, targets)) await checkMutant(label, m, spans.byRace, tally, notFixed);
  const sites = Object.entries(spans.byRace)
    .map(([r, s]) => `${r} ${s.length}`)
    .join(', ');
  const verdicts = Object.entries(tally.byVerdict)
    .map(([v, n]) => `${v} ${n}`)
    .join(', ');
  console.log(
    `${label} (${FUZZ_RACES.map((r) => `${r} ${base.races[r].verdict}`).join(', ')}): ${tally.mutants} mutants (fix sites: ${sites}); destroyed-site verdicts: ${verdicts || 'none'}; crashes ${tally.crashes}; fixed-although-destroyed ${tally.failures.length - tally.crashes} (${((performance.now() - t) / 1000).toFixed(1)} s)`,
  );
  for (const f of tally.failures.slice(0, 10)) console.log(`  ${f}`);
  total.mutants += tally.mutants;
  total.crashes += tally.crashes;
  total.destroyed += tally.destroyed;
  total.failures.push(...tally.failures);
  for (const [v, n] of Object.entries(tally.byVerdict)) total.byVerdict[v] = (total.byVerdict[v] ?? 0) + n;
}
console.log(
  `total: ${total.mutants} mutants on ${inputs.length} files, ${total.destroyed} destroyed-site verdicts (${Object.entries(total.byVerdict)
    .map(([v, n]) => `${v} ${n}`)
    .join(', ')}), ${total.crashes} crashes, ${total.failures.length} failures in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
);
process.exit(total.failures.length ? 1 : 0);
