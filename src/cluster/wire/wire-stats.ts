// What the wire layer dropped and why: input from the network is never trusted, never crashes us, and
// every refusal is counted so an operator can see a misconfigured or hostile peer.
export interface WireStats {
  /** Messages of a type we do not know (a newer memberlist, garbage). */
  unknownType: number;
  /** Bytes that did not decode (bad msgpack, truncated header, bad LZW). */
  malformed: number;
  /** Compound parts cut off by the end of the packet. */
  truncatedParts: number;
  /** Packets whose CRC did not match. */
  badCrc: number;
  /** Encrypted input no installed key could open. */
  decryptFailed: number;
  /** Plaintext input while a keyring is set (memberlist's GossipVerifyIncoming). */
  unencrypted: number;
  /** Packets with a label header (memberlist >= 0.3 with a label): we are label-less. */
  labelled: number;
}

export function newWireStats(): WireStats {
  return { unknownType: 0, malformed: 0, truncatedParts: 0, badCrc: 0, decryptFailed: 0, unencrypted: 0, labelled: 0 };
}
