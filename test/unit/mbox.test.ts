// mbox as lore/public-inbox serves it (mboxrd), as old tools write it (mboxo), and as
// format-patch writes it: separators, >From unquoting, RFC 2047 headers, series order.
// Every message here is written for this test.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPatchText } from '../../src/core/patch/applied';
import { decodeHeader, parsePatchFile, seriesNumber, splitMessages } from '../../src/core/patch/mbox';

const BEFORE = [
  'static int demo_take(int a)',
  '{',
  '\treturn a;',
  '}',
  '',
  'static int demo_give(int b)',
  '{',
  '\treturn b;',
  '}',
  '',
].join('\n');
const AFTER = [
  'static int demo_take(int a)',
  '{',
  '\treturn a + 1;',
  '}',
  '',
  'static int demo_give(int b)',
  '{',
  '\treturn b - 1;',
  '}',
  '',
].join('\n');

const patch1 = `diff --git a/net/netfilter/demo.c b/net/netfilter/demo.c
--- a/net/netfilter/demo.c
+++ b/net/netfilter/demo.c
@@ -1,4 +1,4 @@ static int demo_take(int a)
 static int demo_take(int a)
 {
-\treturn a;
+\treturn a + 1;
 }
`;
const patch2 = `diff --git a/net/netfilter/demo.c b/net/netfilter/demo.c
--- a/net/netfilter/demo.c
+++ b/net/netfilter/demo.c
@@ -6,4 +6,4 @@ static int demo_give(int b)
 static int demo_give(int b)
 {
-\treturn b;
+\treturn b - 1;
 }
`;

// Lore order is thread order; here 2/2 comes first to show the series is reordered.
const LORE_MBOXRD = `From mboxrd@z Thu Jan  1 00:00:00 1970
From: =?UTF-8?q?Jos=C3=A9_Garc=C3=ADa?= <jose@example.org>
To: netfilter-devel@vger.kernel.org
Subject: [PATCH nf 2/2] netfilter: demo: give one back,
 =?UTF-8?B?w6l0w6k=?= edition
Date: Mon, 1 Jul 2019 10:00:02 +0200
Message-Id: <20190701080002.2-jose@example.org>

>From the second patch's point of view this line started with From.
>>From this one had one '>' already.

Signed-off-by: =?UTF-8?q?Jos=C3=A9_Garc=C3=ADa?= <jose@example.org>
---
${patch2}-- 
2.20.1

From mboxrd@z Thu Jan  1 00:00:00 1970
From: =?iso-8859-1?Q?Fran=E7ois?= Dupont <francois@example.org>
To: netfilter-devel@vger.kernel.org
Subject: [PATCH nf 1/2] netfilter: demo: take one more
Date: Mon, 1 Jul 2019 10:00:01 +0200
Message-Id: <20190701080001.1-jose@example.org>

From here on (not a separator: no date after it) the body goes on.

Signed-off-by: Jose Garcia <jose@example.org>
---
${patch1}-- 
2.20.1
`;

test('lore mboxrd with two patches: two messages, decoded headers, >From unquoted, series order', () => {
  const raw = splitMessages(LORE_MBOXRD);
  assert.equal(raw.length, 2);
  const msgs = parsePatchFile(LORE_MBOXRD);
  assert.deepEqual(
    msgs.map((m) => m.subject),
    ['netfilter: demo: take one more', 'netfilter: demo: give one back, été edition'],
  );
  assert.deepEqual(
    msgs.map((m) => m.series),
    [
      { n: 1, m: 2 },
      { n: 2, m: 2 },
    ],
  );
  assert.equal(msgs[0].from, 'François Dupont <francois@example.org>');
  assert.equal(msgs[1].from, 'José García <jose@example.org>');
  assert.match(msgs[1].body, /^From the second patch's point of view/);
  assert.match(msgs[1].body, /\n>From this one had one '>' already\./);
  assert.match(msgs[0].body, /^From here on \(not a separator/);
  assert.equal(msgs[0].files.length, 1);
  assert.equal(msgs[1].files.length, 1);
});

test('the two patches of the mbox are checked as two, in series order', () => {
  const tree = (text: string) => (p: string) => (p === 'net/netfilter/demo.c' ? text : null);
  const after = checkPatchText(LORE_MBOXRD, tree(AFTER));
  assert.deepEqual(
    after.map((r) => [r.subject, r.overall]),
    [
      ['netfilter: demo: take one more', 'applied'],
      ['netfilter: demo: give one back, été edition', 'applied'],
    ],
  );
  const before = checkPatchText(LORE_MBOXRD, tree(BEFORE));
  assert.deepEqual(
    before.map((r) => r.overall),
    ['not-applied', 'not-applied'],
  );
  const half = checkPatchText(LORE_MBOXRD, tree(BEFORE.replace('\treturn a;', '\treturn a + 1;')));
  assert.deepEqual(
    half.map((r) => r.overall),
    ['applied', 'not-applied'],
  );
});

test('mboxo (address and date separators) and format-patch separators split too', () => {
  const mboxo = `From jose@example.org Mon Jul  1 10:00:01 2019\nFrom: Jose <jose@example.org>\nSubject: [PATCH 1/2] one\n\nbody\n---\n${patch1}\nFrom jose@example.org Mon Jul  1 10:00:02 2019\nFrom: Jose <jose@example.org>\nSubject: [PATCH 2/2] two\n\n>From here, quoted by mboxo\n---\n${patch2}`;
  const m = parsePatchFile(mboxo);
  assert.deepEqual(
    m.map((x) => x.subject),
    ['one', 'two'],
  );
  assert.match(m[1].body, /^From here, quoted by mboxo/);
  const fp = `From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\nFrom: A <a@example.org>\nSubject: [PATCH] only\n\nx\n---\n${patch1}`;
  assert.deepEqual(
    parsePatchFile(fp).map((x) => x.subject),
    ['only'],
  );
  // A bare diff without any header still reads as one patch.
  assert.equal(parsePatchFile(patch1).length, 1);
});

test('RFC 2047: B and Q words, charsets through TextDecoder, whitespace between words dropped', () => {
  assert.equal(decodeHeader('=?UTF-8?B?SsO8cmdlbg==?= =?UTF-8?Q?_M=C3=BCller?= <jm@example.org>'), 'Jürgen Müller <jm@example.org>');
  assert.equal(decodeHeader('=?ISO-8859-2?Q?=A3ukasz?= Nowak'), 'Łukasz Nowak');
  assert.equal(decodeHeader('plain text =?utf-8?q?stays?= plain'), 'plain text stays plain');
  // A character split across two encoded words is put back together.
  assert.equal(decodeHeader('=?UTF-8?B?w6k=?= =?UTF-8?Q?=C3?= =?UTF-8?Q?=A9?='), 'éé');
  assert.equal(decodeHeader('=?x-unknown?Q?abc?='), 'abc');
});

test('quoted-printable bodies are decoded before the diff is read', () => {
  const qp = `From: A <a@example.org>\nSubject: [PATCH] qp\nContent-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n\nCaf=C3=A9 body that is long enough to be wrapped by the mailer at s=\nome point.\n---\n${patch1.replace('+\treturn a + 1;', '+\treturn a =2B 1;')}`;
  const [m] = parsePatchFile(qp);
  assert.match(m.body, /^Café body that is long enough to be wrapped by the mailer at some point\.$/);
  assert.deepEqual(
    checkPatchText(qp, (p) => (p === 'net/netfilter/demo.c' ? AFTER : null)).map((r) => r.overall),
    ['applied'],
  );
});

test('series numbers from the usual prefixes', () => {
  assert.deepEqual(seriesNumber('[PATCH v2 3/5] x'), { n: 3, m: 5 });
  assert.deepEqual(seriesNumber('[SRU][Bionic][PATCH 1/2] x'), { n: 1, m: 2 });
  assert.deepEqual(seriesNumber('[PATCH net-next 02/10] x'), { n: 2, m: 10 });
  assert.equal(seriesNumber('[PATCH] x'), undefined);
  assert.equal(seriesNumber('netfilter: 1/2 of something'), undefined);
});
