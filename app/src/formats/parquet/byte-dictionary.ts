/**
 * A dictionary of byte strings keyed by their bytes, for RLE_DICTIONARY columns. Values are
 * looked up straight from the batch's UTF-8 bytes (no JS string per value, no garbage): an
 * open-addressing table of FNV-1a hashes over an arena that already holds the dictionary page
 * body (PLAIN BYTE_ARRAY: a 4-byte length, then the bytes, per entry).
 */
import { ByteBuffer } from './byte-buffer.js';

export class ByteDictionary {
  /** The dictionary page body, in id order. */
  readonly page = new ByteBuffer(64 * 1024);
  private starts = new Int32Array(1024);
  private lengths = new Int32Array(1024);
  private hashes = new Int32Array(1024);
  /** id + 1 per slot; 0 = empty. */
  private slots = new Int32Array(2048);
  size = 0;

  reset(): void {
    this.page.reset();
    this.slots.fill(0);
    this.size = 0;
  }

  /** Bytes held (table and arena), for memory accounting. */
  get memoryBytes(): number {
    return this.page.capacity + this.slots.byteLength + this.starts.byteLength * 3;
  }

  /** The id of data[start, start + length), added if new. */
  idOf(data: Uint8Array, start: number, length: number): number {
    let hash = 0x811c9dc5;
    const end = start + length;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ data[i]!, 0x01000193);
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    const arena = this.page.bytes;
    for (;;) {
      const entry = this.slots[slot]!;
      if (entry === 0) break;
      const id = entry - 1;
      if (this.hashes[id] === hash && this.lengths[id] === length) {
        const at = this.starts[id]!;
        let same = true;
        for (let k = 0; k < length; k++) {
          if (arena[at + k] !== data[start + k]) {
            same = false;
            break;
          }
        }
        if (same) return id;
      }
      slot = (slot + 1) & mask;
    }
    return this.insert(slot, hash, data, start, length);
  }

  private insert(slot: number, hash: number, data: Uint8Array, start: number, length: number): number {
    const id = this.size++;
    if (id === this.starts.length) this.growEntries();
    this.page.i32(length);
    this.starts[id] = this.page.length;
    this.lengths[id] = length;
    this.hashes[id] = hash;
    this.page.append(data, start, start + length);
    this.slots[slot] = id + 1;
    if (this.size * 2 > this.slots.length) this.rehash();
    return id;
  }

  private growEntries(): void {
    const grow = (from: Int32Array) => {
      const to = new Int32Array(from.length * 2);
      to.set(from);
      return to;
    };
    this.starts = grow(this.starts);
    this.lengths = grow(this.lengths);
    this.hashes = grow(this.hashes);
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let id = 0; id < this.size; id++) {
      let slot = this.hashes[id]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = id + 1;
    }
    this.slots = slots;
  }
}
