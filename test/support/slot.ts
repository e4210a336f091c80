// The Redis Cluster hash slot of a key's hash tag, computed here (CRC16/XMODEM mod 16384) to tell
// which master serves a caller without asking the store.

/** CRC16/XMODEM (polynomial 0x1021, initial 0), bit by bit: slow and plain, for tests. */
function crc16(text: string): number {
  let crc = 0;
  for (const byte of Buffer.from(text)) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The slot of a bucket key `<prefix><policy>:{<caller id>}`: its hash tag's, the caller id's. */
export function slotOfCaller(callerId: string): number {
  return crc16(callerId) % 16384;
}

/** The master (`host:port`) serving `slot`, from CLUSTER SLOTS ranges per master. */
export function masterOfSlot(slots: Map<string, [number, number][]>, slot: number): string {
  for (const [master, ranges] of slots) if (ranges.some(([start, end]) => slot >= start && slot <= end)) return master;
  throw new Error(`no master serves slot ${slot}`);
}
