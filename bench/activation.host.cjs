// Runs inside code-server's extension host (loaded as an extensionTestsPath by
// bench/activation.bench.mjs): reads both extensions' startup marks, checks that every
// contributed command is registered once activation ends, times the first code lens request
// on nf_conntrack_core.c and the lens request after an unsaved edit (a re-parse of the whole
// file), then logs one BENCH line for the bench to parse.
const vscode = require('vscode');

const OURS = 'conntrack-backport.conntrack-backport';
const BASELINE = 'conntrack-bench.baseline';

async function whenActive(id) {
  const ext = vscode.extensions.getExtension(id);
  if (!ext) throw new Error(`${id} not loaded`);
  for (let i = 0; i < 600 && !ext.isActive; i++) await new Promise((r) => setTimeout(r, 50));
  if (!ext.isActive) throw new Error(`${id} did not activate on the workspace`);
  return ext;
}

async function lensesOf(uri) {
  const t = performance.now();
  const lenses = (await vscode.commands.executeCommand('vscode.executeCodeLensProvider', uri)) ?? [];
  return { ms: performance.now() - t, lenses };
}

exports.run = async function run() {
  console.log('EXT_BEGIN');
  const [ext] = await Promise.all([whenActive(OURS), whenActive(BASELINE)]);
  const contributed = ext.packageJSON.contributes.commands.map((c) => c.command);
  const registered = new Set(await vscode.commands.getCommands(true));
  const missingCommands = contributed.filter((c) => !registered.has(c));
  const ours = await vscode.commands.executeCommand('conntrackBackport.internal.timings');
  const baseline = await vscode.commands.executeCommand('conntrackBench.baseline.timings');
  const [uri] = await vscode.workspace.findFiles('net/netfilter/nf_conntrack_core.c', null, 1);
  const doc = await vscode.workspace.openTextDocument(uri);
  const first = await lensesOf(uri);
  // Marks again: 'lenses:first' is set once the first lenses have been computed.
  const after = await vscode.commands.executeCommand('conntrackBackport.internal.timings');
  // An unsaved edit at the end of the file (a blank line): the next lens request re-parses.
  const edit = new vscode.WorkspaceEdit();
  edit.insert(uri, doc.lineAt(doc.lineCount - 1).range.end, '\n');
  await vscode.workspace.applyEdit(edit);
  const edited = await lensesOf(uri);
  await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor').then(undefined, () => undefined);
  console.log(
    `BENCH ${JSON.stringify({
      ours,
      after,
      baseline,
      lensMs: first.ms,
      lensCount: first.lenses.length,
      topLens: first.lenses.some((l) => l.range.start.line === 0),
      editLensMs: edited.ms,
      editLensCount: edited.lenses.length,
      lines: doc.lineCount,
      commands: contributed.length,
      missingCommands,
    })}`,
  );
};
