// Debian's linux-source-<v> packages as real kernel material for tests and benches: only the
// files detection reads are extracted, into a cache outside the repository keyed by the
// tarball's size and mtime. Nothing of them is ever copied into the repository.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const DEBIAN_FILES = ['net/netfilter/nf_conntrack_core.c', 'net/netfilter/nf_nat_core.c', 'net/netfilter/nfnetlink_queue.c'];

/** The tree root of an extracted /usr/src/linux-source-<version>.tar.xz; throws with the apt command when it is missing. */
export function debianTree(version: string): string {
  const tarball = `/usr/src/linux-source-${version}.tar.xz`;
  if (!fs.existsSync(tarball))
    throw new Error(`${tarball} is missing: install it with apt-get install linux-source-${version} (scripts/install-ci-deps.sh does)`);
  const st = fs.statSync(tarball);
  const cache = path.join(
    process.env.CONNTRACK_CACHE ?? path.join(os.homedir(), '.cache', 'conntrack-backport'),
    'linux-source',
    `${version}-${st.size}-${Math.floor(st.mtimeMs)}`,
  );
  const root = path.join(cache, `linux-source-${version}`);
  if (!DEBIAN_FILES.every((f) => fs.existsSync(path.join(root, f)))) {
    fs.mkdirSync(cache, { recursive: true });
    execFileSync('tar', ['-xJf', tarball, '-C', cache, '--wildcards', ...DEBIAN_FILES.map((f) => `*/${f}`)], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  for (const f of DEBIAN_FILES) if (!fs.existsSync(path.join(root, f))) throw new Error(`${f} not found in ${tarball}`);
  return root;
}
