// Tuples are packed into one number so the hot loops of both engines compare and hash plain
// numbers instead of objects: proto(1 bit) | saddr(8) | sport(16) | daddr(8) | dport(16).
// 49 bits stay exact in a double. Addresses are indexes into a scenario's address book.

export const UDP = 0;
export const TCP = 1;
export type Proto = typeof UDP | typeof TCP;

const P16 = 65536;

export function tuple(proto: number, saddr: number, sport: number, daddr: number, dport: number): number {
  return (((proto * 256 + saddr) * P16 + sport) * 256 + daddr) * P16 + dport;
}

export function tDport(t: number): number {
  return t % P16;
}
export function tDaddr(t: number): number {
  return Math.floor(t / P16) % 256;
}
export function tSport(t: number): number {
  return Math.floor(t / (P16 * 256)) % P16;
}
export function tSaddr(t: number): number {
  return Math.floor(t / (P16 * 256 * P16)) % 256;
}
export function tProto(t: number): number {
  return Math.floor(t / (P16 * 256 * P16 * 256));
}

/** The tuple a packet travelling the other way would carry. */
export function invert(t: number): number {
  return tuple(tProto(t), tDaddr(t), tDport(t), tSaddr(t), tSport(t));
}

export function withSrc(t: number, saddr: number, sport: number): number {
  return tuple(tProto(t), saddr, sport, tDaddr(t), tDport(t));
}

export function withDst(t: number, daddr: number, dport: number): number {
  return tuple(tProto(t), tSaddr(t), tSport(t), daddr, dport);
}

export function formatTuple(t: number, addrs: readonly string[]): string {
  const a = (i: number) => addrs[i] ?? `addr${i}`;
  return `${tProto(t) === TCP ? 'tcp' : 'udp'} ${a(tSaddr(t))}:${tSport(t)} -> ${a(tDaddr(t))}:${tDport(t)}`;
}

/** 32-bit mix of a tuple and a zone: the bucket hash of the model's table. */
export function hashTuple(t: number, zone: number, seed: number): number {
  const lo = (t % 4294967296) | 0;
  const hi = Math.floor(t / 4294967296) | 0;
  let h = Math.imul(lo ^ seed, 0x85ebca6b) ^ Math.imul(hi + zone * 0x27d4eb2f, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}
