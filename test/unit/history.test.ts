// The history layer on real temporary git repositories.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { detectPath } from '../../src/core/detect';
import { generateConntrackCore, generateNatCore } from '../../src/core/fixtures/generate';
import { CliGitReader } from '../../src/core/git/reader';
import { analyzeHistory, bareSubject, classifyCommit, provenanceLines } from '../../src/core/history/analyze';
import { commitAll, git, initRepo, tmpDir, writeFile } from './helpers';

const CORE = 'net/netfilter/nf_conntrack_core.c';
const NAT = 'net/netfilter/nf_nat_core.c';
const ED07 = 'ed07d9a021df6da53456663a76999189badc432a';
const E4E35 = '4e35c1cb9460240e983a01745b5f29fe3a4d8e39';
const core = (race1: 'none' | 'upstream', race2: 'none' | 'upstream' | 'azure-952939'): string =>
  generateConntrackCore({ era: '4.15', race1, race2, fullSize: false, seed: 7 }).text;

test('provenance lines of every convention are read', () => {
  const body = `BugLink: https://bugs.launchpad.net/bugs/1836816\n\n(cherry picked from commit ${ED07})\n[ Upstream commit ${E4E35} ]\n(backported from commit 07998281c268)\ncommit ${ED07} upstream.\n`;
  assert.deepEqual(
    provenanceLines(body).map((p) => [p.kind, p.sha.slice(0, 12)]),
    [
      ['cherry-picked', 'ed07d9a021df'],
      ['backported', '07998281c268'],
      ['stable-upstream', '4e35c1cb9460'],
      ['commit-upstream', 'ed07d9a021df'],
    ],
  );
});

test('subjects lose mail and Ubuntu prefixes', () => {
  assert.equal(bareSubject('[SRU][Bionic][PATCH 1/2] UBUNTU: SAUCE: netfilter: x'), 'netfilter: x');
  assert.equal(bareSubject('UBUNTU: SAUCE: netfilter: nf_nat: y'), 'netfilter: nf_nat: y');
});

test('azure SAUCE commit with the upstream subject is the 937963 posting, a -x pick is upstream', () => {
  const base = { sha: 'a'.repeat(40), author: '', date: '', body: '' };
  assert.equal(
    classifyCommit({ ...base, subject: 'UBUNTU: SAUCE: netfilter: nf_conntrack: resolve clash for matching conntracks' }, false)?.variant,
    'azure-937963',
  );
  assert.equal(
    classifyCommit(
      { ...base, subject: 'netfilter: nf_conntrack: resolve clash for matching conntracks', body: `(cherry picked from commit ${ED07})` },
      true,
    )?.variant,
    'ed07d9a021df',
  );
  const rev = classifyCommit(
    {
      ...base,
      subject: 'Revert "UBUNTU: SAUCE: netfilter: nf_nat: return the same reply tuple for matching CTs"',
      body: 'This reverts commit 1234567890ab.',
    },
    true,
  )!;
  assert.equal(rev.variant, 'azure-952939');
  assert.equal(rev.reverts, true);
});

function azureRepo(): string {
  const d = tmpDir();
  initRepo(d);
  writeFile(d, CORE, core('none', 'none'));
  writeFile(d, NAT, generateNatCore({ azure952939: false }));
  commitAll(d, 'UBUNTU: Ubuntu-4.15.0-20.21');
  writeFile(d, CORE, core('upstream', 'none'));
  commitAll(
    d,
    'UBUNTU: SAUCE: netfilter: nf_conntrack: resolve clash for matching conntracks\n\nBugLink: https://bugs.launchpad.net/bugs/1795493\nLink: https://patchwork.ozlabs.org/patch/937963/',
  );
  writeFile(d, CORE, core('upstream', 'azure-952939'));
  commitAll(
    d,
    'UBUNTU: SAUCE: netfilter: nf_nat: return the same reply tuple for matching CTs\n\nBugLink: https://bugs.launchpad.net/bugs/1795493\nLink: https://patchwork.ozlabs.org/patch/952939/',
  );
  return d;
}

test('an azure tree: history tells 937963 from ed07d9a021df, and 952939 is found by subject', async () => {
  const d = azureRepo();
  const h = await analyzeHistory(new CliGitReader(d), [CORE, NAT]);
  assert.equal(h.available, true);
  assert.equal(h.commitsTouchingFile, 3);
  assert.deepEqual(h.net, { 'azure-937963': 'applied', 'azure-952939': 'applied' });
  const r = await detectPath(d);
  assert.equal(r.races.race1.verdict, 'fixed');
  assert.equal(r.races.race1.variant, 'azure-937963');
  assert.equal(r.races.race1.decidedBy, 'history');
  assert.equal(r.races.race2.variant, 'azure-952939');
  assert.ok(r.races.race1.evidence.some((e) => e.layer === 'history' && e.variant === 'azure-937963'));
  assert.ok(r.variantsPresent.includes('azure-937963') && r.variantsPresent.includes('azure-952939'));
});

test('after the SRU (revert azure, pick upstream with -x) history and source agree on upstream', async () => {
  const d = azureRepo();
  git(d, 'revert', '--no-edit', 'HEAD');
  git(d, 'revert', '--no-edit', 'HEAD~2');
  writeFile(d, CORE, core('upstream', 'none'));
  commitAll(
    d,
    `netfilter: nf_conntrack: resolve clash for matching conntracks\n\nBugLink: https://bugs.launchpad.net/bugs/1836816\n\n(cherry picked from commit ${ED07})\nSigned-off-by: A <a@b>`,
  );
  writeFile(d, CORE, core('upstream', 'upstream'));
  commitAll(
    d,
    `netfilter: nf_nat: skip nat clash resolution for same-origin entries\n\nBugLink: https://bugs.launchpad.net/bugs/1836816\n\n(cherry picked from commit ${E4E35})\nSigned-off-by: A <a@b>`,
  );
  const r = await detectPath(path.join(d, CORE));
  assert.equal(r.history?.net['azure-937963'], 'reverted');
  assert.equal(r.history?.net['azure-952939'], 'reverted');
  assert.equal(r.history?.net['ed07d9a021df'], 'applied');
  assert.equal(r.races.race1.variant, 'ed07d9a021df');
  assert.equal(r.races.race2.variant, '4e35c1cb9460');
  assert.ok(!r.variantsPresent.includes('azure-952939'));
  assert.equal(r.races.race1.disagreement, undefined);
});

test('history and source disagreeing is reported (fix lost in a merge)', async () => {
  const d = tmpDir();
  initRepo(d);
  writeFile(d, CORE, core('none', 'none'));
  commitAll(d, 'base');
  writeFile(d, CORE, core('none', 'upstream'));
  commitAll(d, `netfilter: nf_nat: skip nat clash resolution for same-origin entries\n\n[ Upstream commit ${E4E35} ]`);
  writeFile(d, CORE, core('none', 'none'));
  commitAll(d, 'vendor: resync conntrack core');
  const r = await detectPath(d);
  assert.equal(r.races.race2.verdict, 'missing');
  assert.match(r.races.race2.disagreement ?? '', /history shows the race 2 fix applied/);
});

test('patch-id equivalence with an upstream commit present in the repository', async () => {
  const d = tmpDir();
  initRepo(d);
  writeFile(d, CORE, core('none', 'none'));
  commitAll(d, 'base');
  git(d, 'checkout', '-q', '-b', 'upstream');
  writeFile(d, CORE, core('none', 'upstream'));
  const up = commitAll(d, 'netfilter: nf_nat: skip nat clash resolution for same-origin entries');
  git(d, 'checkout', '-q', 'main');
  writeFile(d, CORE, core('none', 'upstream'));
  const local = commitAll(d, 'vendor: import conntrack fix'); // no subject, no provenance
  // The upstream commit lives here under another id (a mirror): pass it as an override.
  const h = await analyzeHistory(new CliGitReader(d), [CORE], { overrides: { '4e35c1cb9460': up } });
  const hit = h.commits.find((c) => c.sha === local);
  assert.equal(hit?.matchedBy, 'patch-id');
  assert.equal(hit?.variant, '4e35c1cb9460');
});
