// Builds (or finds) the kernel-scale sweep repository: `node out/bench/sweepBuild.js [--commits N]`.
import { cachedScaleRepo } from './sweepRepo';

const i = process.argv.indexOf('--commits');
const commits = i > 0 ? Number(process.argv[i + 1]) : 1_050_000;
cachedScaleRepo({ commits }, (s) => console.log(s)).then(
  (r) =>
    console.log(`${r.dir}: ${r.commits} commits, ${r.tags} tags, conntrack file changed ${r.coreChanges} times, NAT file ${r.natChanges}`),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
