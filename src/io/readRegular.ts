/**
 * Reading a file the user named, refusing anything that is not a regular file first: Node's
 * `readFile` on a device such as /dev/zero or /dev/urandom never reaches the end and grows until
 * the process is killed (the fuzz corpus, src/testing/fuzz, found it with a backbone manifest whose
 * `onnx` field named /dev/zero), and on a FIFO it waits forever. The check is on the opened handle,
 * so the file read is the file checked.
 */
import { open } from 'node:fs/promises';

/**
 * The whole of a regular file, as a Buffer or, with 'utf8', a string.
 * @throws the open or read error (with Node's `code`); an Error with code 'ENOTREGULAR' when the
 * path is a device, FIFO, socket or folder, which `ioCause` words as such.
 * @example const text = await readRegularFile('config.yaml', 'utf8');
 */
export async function readRegularFile(path: string): Promise<Buffer>;
export async function readRegularFile(path: string, encoding: 'utf8'): Promise<string>;
export async function readRegularFile(path: string, encoding?: 'utf8'): Promise<Buffer | string> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      throw Object.assign(new Error(`${path} is not a regular file`), { code: st.isDirectory() ? 'EISDIR' : 'ENOTREGULAR' });
    }
    return encoding ? await fh.readFile({ encoding }) : await fh.readFile();
  } finally {
    await fh.close();
  }
}
