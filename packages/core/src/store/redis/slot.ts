// The Redis Cluster hash slot of a bucket key: CRC16 (XMODEM) of its hash tag, modulo 16384.

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

/** CRC16-XMODEM of an ASCII string (caller ids are base64url: one byte per character). */
function crc16(text: string): number {
  let crc = 0;
  for (let i = 0; i < text.length; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ text.charCodeAt(i)) & 0xff]!;
  return crc;
}

/**
 * The slot of every bucket key of one caller: bucket keys are `<prefix><policy>:{<caller id>}`,
 * so the slot is the caller id's (a prefix without braces, which options refuse, cannot change it).
 */
export function callerSlot(callerId: string): number {
  return crc16(callerId) & 16383;
}
