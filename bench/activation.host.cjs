// Runs inside code-server's extension host (loaded as an extensionTestsPath by
// bench/activation.bench.mjs): reads both extensions' startup marks and times the first
// code lens request on nf_conntrack_core.c, then logs one BENCH line for the bench to parse.
const vscode = require('vscode');

const OURS = 'conntrack-backport.conntrack-backport';
const BASELINE = 'conntrack-bench.baseline';

async function whenActive(id) {
  const ext = vscode.extensions.getExtension(id);
  if (!ext) throw new Error(`${id} not loaded`);
  for (let i = 0; i < 300 && !ext.isActive; i++) await new Promise((r) => setTimeout(r, 50));
  if (!ext.isActive) throw new Error(`${id} did not activate on the workspace`);
}

exports.run = async function run() {
  console.log('EXT_BEGIN');
  await Promise.all([whenActive(OURS), whenActive(BASELINE)]);
  const ours = await vscode.commands.executeCommand('conntrackBackport.internal.timings');
  const baseline = await vscode.commands.executeCommand('conntrackBench.baseline.timings');
  const [uri] = await vscode.workspace.findFiles('net/netfilter/nf_conntrack_core.c', null, 1);
  await vscode.workspace.openTextDocument(uri);
  const t = performance.now();
  const lenses = (await vscode.commands.executeCommand('vscode.executeCodeLensProvider', uri)) ?? [];
  const lensMs = performance.now() - t;
  // Marks again: 'lenses:first' is set once the first lenses have been computed.
  const after = await vscode.commands.executeCommand('conntrackBackport.internal.timings');
  console.log(`BENCH ${JSON.stringify({ ours, after, baseline, lensMs, lensCount: lenses.length })}`);
};
