// A real, full-sized kernel tree for the editor tests and the activation bench: Debian's
// linux-source-6.1 (installed by scripts/install-ci-deps.sh), extracted once outside the
// repository. It is the same extraction the test-plan CI stage uses (scripts/testplan-ci.mjs:
// same folder, same `.extracted-ok` marker), so a machine holds one copy and whichever stage
// runs first pays for it. Never copied into the repository.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const DEBIAN_61_TARBALL = '/usr/src/linux-source-6.1.tar.xz';

function cacheDir() {
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'conntrack-backport', 'testplan', 'sources');
}

/** The tree root (…/linux-source-6.1), extracting the tarball first if needed; throws when the package is absent. */
export async function debianTree61({ log = () => {} } = {}) {
  const cache = cacheDir();
  const tree = path.join(cache, 'linux-source-6.1');
  if (existsSync(path.join(tree, '.extracted-ok'))) return tree;
  if (!existsSync(DEBIAN_61_TARBALL))
    throw new Error(`${DEBIAN_61_TARBALL} is missing: apt-get install linux-source-6.1 (scripts/install-ci-deps.sh does)`);
  mkdirSync(cache, { recursive: true });
  log(`extracting ${DEBIAN_61_TARBALL} into ${cache} (once per machine)`);
  const t = Date.now();
  await new Promise((resolve, reject) => {
    const child = spawn('nice', ['-n', '10', 'tar', '-xJf', DEBIAN_61_TARBALL, '-C', cache], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar exited with ${code}`))));
  });
  if (!existsSync(path.join(tree, 'net/netfilter/nf_conntrack_core.c')))
    throw new Error(`${DEBIAN_61_TARBALL} has no linux-source-6.1/net/netfilter`);
  writeFileSync(path.join(tree, '.extracted-ok'), '');
  log(`extracted in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  return tree;
}
