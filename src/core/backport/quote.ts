// Quoting for the recovery hints the user may paste into a shell: a word made only of safe
// characters stays as it is, anything else goes in single quotes.

export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(word) && !word.startsWith('-')) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
