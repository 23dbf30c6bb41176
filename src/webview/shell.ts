// The HTML shell every webview of ours uses: a strict CSP (nothing but our nonce'd script
// and the webview's own resources), one stylesheet, one script. No vscode import: unit-tested.
import { randomBytes } from 'node:crypto';

export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

export interface ShellOptions {
  title: string;
  /** webview.cspSource */
  cspSource: string;
  nonce: string;
  styleUri: string;
  scriptUri: string;
  body: string;
  /** Allow data: images (inline SVG exports). */
  dataImages?: boolean;
}

export function webviewPage(o: ShellOptions): string {
  const csp = [
    `default-src 'none'`,
    `script-src 'nonce-${o.nonce}'`,
    `style-src ${o.cspSource}`,
    `img-src ${o.cspSource}${o.dataImages ? ' data:' : ''}`,
    `font-src ${o.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${o.styleUri}">
<title>${o.title}</title>
</head>
<body>
${o.body}
<script nonce="${o.nonce}" src="${o.scriptUri}"></script>
</body>
</html>`;
}
