import fs from "node:fs/promises";

/** `length` bytes of `file` from `start` (fewer when it ends before). */
export async function readRange(file: string, start: number, length: number): Promise<Buffer> {
  const handle = await fs.open(file, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, start);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
