// Explorer links: trace function names resolve to lines of the analysed tree's files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DetectionResult } from '../../src/core/types';
import { resolveSources } from '../../src/simulation/sources';

const CORE = `// nf_conntrack_core.c (excerpt)
static int
__nf_conntrack_confirm(struct sk_buff *skb)
{
	return 0;
}

static bool nf_ct_resolve_clash(struct sk_buff *skb)
{
	return false;
}
`;
const NAT = `
static void
get_unique_tuple(struct nf_conntrack_tuple *tuple)
{
}
`;

test('symbols come from the detection map first, then from indexing the core and nat files', async () => {
  const det = {
    file: '/tree/net/netfilter/nf_conntrack_core.c',
    kernelFile: true,
    functions: { nf_conntrack_in: { name: 'nf_conntrack_in', startLine: 100, endLine: 180, nameLine: 101 } },
  } as unknown as DetectionResult;
  const files: Record<string, string> = { '/tree/net/netfilter/nf_conntrack_core.c': CORE, '/tree/net/netfilter/nf_nat_core.c': NAT };
  const out = await resolveSources(
    ['nf_conntrack_in', '__nf_conntrack_confirm', 'get_unique_tuple', 'not_there', 'a; rm -rf'],
    det,
    async (f) => files[f],
  );
  assert.deepEqual(out.nf_conntrack_in, { file: det.file, line: 101 });
  assert.deepEqual(out.__nf_conntrack_confirm, { file: det.file, line: 3 });
  assert.deepEqual(out.get_unique_tuple, { file: '/tree/net/netfilter/nf_nat_core.c', line: 3 });
  assert.equal(out.not_there, undefined);
  assert.equal(Object.keys(out).length, 3);
});

test('without a kernel file there is nothing to link', async () => {
  assert.deepEqual(await resolveSources(['nf_conntrack_in'], undefined), {});
});
