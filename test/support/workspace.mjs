// The one place that creates the kernel-shaped workspace the editor tests open.
// Swap the body for the project's fixture generator (src/core/fixtures) once it lands;
// callers only rely on: returns an absolute folder containing net/netfilter/nf_conntrack_core.c.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CORE_FILE = 'net/netfilter/nf_conntrack_core.c';

const CORE_SOURCE = `// SPDX-License-Identifier: GPL-2.0-only
/* Placeholder shaped like nf_conntrack_core.c for editor tests. */
#include <net/netfilter/nf_conntrack.h>

static int __nf_conntrack_confirm(struct sk_buff *skb)
{
	return NF_ACCEPT;
}

int nf_conntrack_tuple_taken(const struct nf_conntrack_tuple *tuple,
			     const struct nf_conn *ignored_conntrack)
{
	return 0;
}
`;

/** Creates a fresh workspace; with git: true it is a repository with one commit. */
export function makeKernelWorkspace({ git = false, prefix = 'cb-ws-' } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const file = path.join(dir, CORE_FILE);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, CORE_SOURCE);
  writeFileSync(path.join(dir, 'Makefile'), 'VERSION = 4\nPATCHLEVEL = 15\nSUBLEVEL = 0\n');
  if (git) {
    const g = (...a) => execFileSync('git', ['-C', dir, '-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', ...a], { stdio: 'ignore' });
    g('init', '-q', '-b', 'master');
    g('add', '-A');
    g('commit', '-q', '-m', 'Linux 4.15');
  }
  return dir;
}
