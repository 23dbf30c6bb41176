// Settings read through one place into the plain object the core takes.
import * as os from 'node:os';
import * as vscode from 'vscode';
import { gitText } from './core/git/run';
import { BackportSettings, normalizeSettings, signOffFromGit } from './core/settings';
import { CONFIG_SECTION } from './ids';

export interface ExtensionConfig {
  backport: BackportSettings;
  codeLensEnabled: boolean;
  problems: string[];
}

export function readConfig(scope?: vscode.Uri): ExtensionConfig {
  const c = vscode.workspace.getConfiguration(CONFIG_SECTION, scope);
  const keys = ['upstreamRemote', 'commitOverrides', 'bugNumber', 'signOff', 'sruSeries', 'messageStyle'] as const;
  const raw = Object.fromEntries(keys.map((k) => [k, c.get(k)]));
  const { settings, problems } = normalizeSettings(raw);
  return { backport: settings, codeLensEnabled: c.get<boolean>('codeLens.enabled', true), problems };
}

export function affectsUs(e: vscode.ConfigurationChangeEvent): boolean {
  return e.affectsConfiguration(CONFIG_SECTION);
}

function gitConfig(key: string, cwd: string): Promise<string | undefined> {
  return gitText(cwd, ['config', '--get', key], { timeoutMs: 5000 }).then(
    (out) => out.trim(),
    () => undefined,
  );
}

/**
 * The sign-off identity: the setting, else git config. In an untrusted workspace git is asked
 * from the home folder so the repository's own config is never read.
 */
export async function resolveSignOff(s: BackportSettings, repoRoot: string | undefined): Promise<string> {
  if (s.signOff) return s.signOff;
  const cwd = repoRoot && vscode.workspace.isTrusted ? repoRoot : os.homedir();
  return signOffFromGit(await gitConfig('user.name', cwd), await gitConfig('user.email', cwd));
}
