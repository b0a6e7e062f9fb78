// A buffer a thread reuses for one kind of short-lived bytes (a file read, a decoded module, a
// section image), grown to the largest it has held: a tree of modules then allocates and
// faults in no fresh pages per module. Past `keep` bytes a request gets a buffer of its own,
// so that one huge input (an xz bomb, a 1 GB .bss) does not stay resident for the rest of a
// tree. What take() returns is valid until the next take().

export class ScratchBuffer {
  private buffer = Buffer.allocUnsafeSlow(1 << 20);

  constructor(private readonly keep = 64 << 20) {}

  take(size: number): Buffer {
    if (size > this.keep) return Buffer.allocUnsafeSlow(size);
    if (size > this.buffer.length) this.buffer = Buffer.allocUnsafeSlow(size);
    return this.buffer.subarray(0, size);
  }
}
