function main(argv: string[]): number {
  process.stdout.write(`conntrack-backport: no command yet (${argv.join(' ')})\n`);
  return 0;
}
process.exitCode = main(process.argv.slice(2));
