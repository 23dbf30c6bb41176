import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mailSubject, parseIdentity, pickMessage, revertMessage } from '../../src/core/backport/messages';

const signoff = { name: 'Sam Submitter', email: 'sam@example.com' };
const upstream = {
  subject: 'netfilter: nf_conntrack: resolve clash for matching conntracks',
  body: 'Explains the race.\n\nSigned-off-by: A Author <a@example.com>\nSigned-off-by: M Maintainer <m@example.com>',
  sha: 'ed07d9a021df6da53456663a76999189badc432a',
};

const lines = (m: string): string[] => m.trimEnd().split('\n');

test('SRU pick: BugLink first body line, upstream text kept, cherry-pick line, sign-off last', () => {
  const l = lines(pickMessage(upstream, { style: 'sru', bug: 1836816, signoff }));
  assert.equal(l[0], upstream.subject);
  assert.equal(l[1], '');
  assert.equal(l[2], 'BugLink: https://bugs.launchpad.net/bugs/1836816');
  assert.ok(l.includes('Explains the race.'));
  assert.ok(l.includes('Signed-off-by: M Maintainer <m@example.com>'));
  assert.equal(l.at(-2), `(cherry picked from commit ${upstream.sha})`);
  assert.equal(l.at(-1), 'Signed-off-by: Sam Submitter <sam@example.com>');
  assert.ok(l.indexOf('Signed-off-by: A Author <a@example.com>') < l.length - 2);
});

test('SRU backport after a conflict: backported-from line, [name: note], then sign-off', () => {
  const l = lines(
    pickMessage({ ...upstream, backported: { text: 'adjusted context in nf_conntrack_tuple_taken()' } }, { style: 'sru', bug: 1, signoff }),
  );
  assert.equal(l.at(-3), `(backported from commit ${upstream.sha})`);
  assert.equal(l.at(-2), '[sam: adjusted context in nf_conntrack_tuple_taken()]');
  assert.equal(l.at(-1), 'Signed-off-by: Sam Submitter <sam@example.com>');
  assert.ok(!l.some((x) => x.startsWith('(cherry picked')));
});

test('an earlier provenance line in the upstream body is replaced by ours', () => {
  const l = lines(
    pickMessage({ ...upstream, body: upstream.body + '\n(cherry picked from commit 1234567890abcdef)' }, { style: 'sru', bug: 1, signoff }),
  );
  assert.equal(l.filter((x) => x.startsWith('(cherry picked')).length, 1);
});

test('stable form: [ Upstream commit ] first body line, no BugLink', () => {
  const l = lines(pickMessage(upstream, { style: 'stable', bug: 1836816, signoff }));
  assert.equal(l[2], `[ Upstream commit ${upstream.sha} ]`);
  assert.ok(!l.some((x) => x.startsWith('BugLink')));
  assert.equal(l.at(-1), 'Signed-off-by: Sam Submitter <sam@example.com>');
});

test('revert: Revert "<subject>", BugLink first, This reverts commit, sign-off last', () => {
  const sha = 'a'.repeat(40);
  const l = lines(
    revertMessage(
      { subject: 'UBUNTU: SAUCE: netfilter: x', sha, reason: 'Replaced by upstream.' },
      { style: 'sru', bug: 1836816, signoff },
    ),
  );
  assert.equal(l[0], 'Revert "UBUNTU: SAUCE: netfilter: x"');
  assert.equal(l[2], 'BugLink: https://bugs.launchpad.net/bugs/1836816');
  assert.ok(l.includes(`This reverts commit ${sha}.`));
  assert.ok(l.indexOf(`This reverts commit ${sha}.`) > 2);
  assert.equal(l.at(-1), 'Signed-off-by: Sam Submitter <sam@example.com>');
});

test('mail subjects and identities', () => {
  assert.equal(mailSubject('x', 1, 4, 'Bionic', 'sru'), '[SRU][Bionic][PATCH 1/4] x');
  assert.equal(mailSubject('x', 0, 4, 'Bionic', 'sru'), '[SRU][Bionic][PATCH 0/4] x');
  assert.deepEqual(parseIdentity('Jane Q. Doe <jane@example.org>'), { name: 'Jane Q. Doe', email: 'jane@example.org' });
  assert.equal(parseIdentity('jane@example.org'), null);
});
