/**
 * Reads the ticket-granting ticket's times out of an MIT FILE credential cache (format version
 * 4, 0x0504; "The Kerberos Credential Cache Binary File Format" in MIT's documentation), so
 * renewal is planned from what the KDC actually granted rather than from what was asked for.
 */

class Reader {
  offset = 0;
  constructor(private readonly buffer: Buffer) {}
  u8() {
    return this.buffer.readUInt8((this.offset += 1) - 1);
  }
  u16() {
    return this.buffer.readUInt16BE((this.offset += 2) - 2);
  }
  u32() {
    return this.buffer.readUInt32BE((this.offset += 4) - 4);
  }
  bytes() {
    const length = this.u32();
    const value = this.buffer.subarray(this.offset, this.offset + length);
    if (value.length !== length) throw new Error('truncated credential cache');
    this.offset += length;
    return value;
  }
  /** A count, then that many (16-bit type, data) pairs: addresses and authorization data. */
  taggedList(): void {
    for (let n = this.u32(); n > 0; n -= 1) {
      this.u16();
      this.bytes();
    }
  }
  principal(): string[] {
    this.u32(); // name type
    const count = this.u32();
    const realm = this.bytes().toString('utf8');
    const components = Array.from({ length: count }, () => this.bytes().toString('utf8'));
    return [...components, realm];
  }
  get done() {
    return this.offset >= this.buffer.length;
  }
}

export function ticketGrantingTicketTimes(file: Buffer): { start: number; end: number } {
  const reader = new Reader(file);
  if (reader.u16() !== 0x0504) throw new Error('not a version 4 credential cache');
  const headerLength = reader.u16();
  reader.offset += headerLength; // header tags (KDC time offset)
  reader.principal(); // default client principal
  while (!reader.done) {
    reader.principal(); // client
    const server = reader.principal(); // [components…, realm]
    reader.u16(); // key type
    reader.bytes(); // key
    const authTime = reader.u32();
    const startTime = reader.u32();
    const endTime = reader.u32();
    reader.u32(); // renew till
    reader.u8(); // is_skey
    reader.u32(); // flags
    reader.taggedList(); // addresses
    reader.taggedList(); // authdata
    reader.bytes(); // ticket
    reader.bytes(); // second ticket
    if (server.length === 3 && server[0] === 'krbtgt') {
      return { start: (startTime || authTime) * 1000, end: endTime * 1000 };
    }
  }
  throw new Error('the credential cache holds no ticket-granting ticket');
}
