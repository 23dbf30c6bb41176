// Tuples are packed into one number so the hot loops of both engines compare and hash plain
// numbers instead of objects: proto(1 bit) | saddr(8) | sport(16) | daddr(8) | dport(16).
// 49 bits stay exact in a double. Addresses are indexes into a scenario's address book.

export const UDP = 0;
export const TCP = 1;
export type Proto = typeof UDP | typeof TCP;

const P16 = 65536;

// A tuple is two halves of 24 bits: hi = proto * 2^24 + (saddr, sport), lo = (daddr, dport).
// Splitting with a division by 2^24 and a floor is exact for 49-bit values and keeps both halves
// in int32 range, so every field below is a shift or a mask: no floating-point modulo (a call
// into fmod on doubles) in the engines' hot paths. Values are the same as the plain packing
// proto | saddr(8) | sport(16) | daddr(8) | dport(16).
const H24 = 16777216;

export function tuple(proto: number, saddr: number, sport: number, daddr: number, dport: number): number {
  return (proto * H24 + saddr * P16 + sport) * H24 + daddr * P16 + dport;
}

export function tDport(t: number): number {
  return (t - Math.floor(t / H24) * H24) & 0xffff;
}
export function tDaddr(t: number): number {
  return (t - Math.floor(t / H24) * H24) >>> 16;
}
export function tSport(t: number): number {
  return Math.floor(t / H24) & 0xffff;
}
export function tSaddr(t: number): number {
  return (Math.floor(t / H24) >>> 16) & 0xff;
}
export function tProto(t: number): number {
  return Math.floor(t / H24) >>> 24;
}

/** The tuple a packet travelling the other way would carry. */
export function invert(t: number): number {
  const hi = Math.floor(t / H24);
  const lo = t - hi * H24;
  return ((hi >>> 24) * H24 + lo) * H24 + (hi & 0xffffff);
}

export function withSrc(t: number, saddr: number, sport: number): number {
  const hi = Math.floor(t / H24);
  return ((hi >>> 24) * H24 + saddr * P16 + sport) * H24 + (t - hi * H24);
}

export function withDst(t: number, daddr: number, dport: number): number {
  const hi = Math.floor(t / H24);
  return hi * H24 + daddr * P16 + dport;
}

export function formatTuple(t: number, addrs: readonly string[]): string {
  const a = (i: number) => addrs[i] ?? `addr${i}`;
  return `${tProto(t) === TCP ? 'tcp' : 'udp'} ${a(tSaddr(t))}:${tSport(t)} -> ${a(tDaddr(t))}:${tDport(t)}`;
}

/** 32-bit mix of a tuple and a zone: the bucket hash of the model's table. */
export function hashTuple(t: number, zone: number, seed: number): number {
  const hf = Math.floor(t / 4294967296);
  const lo = (t - hf * 4294967296) | 0;
  const hi = hf | 0;
  let h = Math.imul(lo ^ seed, 0x85ebca6b) ^ Math.imul(hi + zone * 0x27d4eb2f, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}
