/**
 * A restricted unpickler: it reads the pickle opcodes a PyTorch state dict uses and builds plain
 * values, and it never runs anything a file names. A pickle is a program (GLOBAL + REDUCE calls any
 * importable function), so every GLOBAL is checked against an allowlist the caller supplies and
 * anything else is refused before it could matter; unknown opcodes are refused too.
 */

/** A Python dict or OrderedDict: insertion-ordered, plus the attributes BUILD sets (torchvision's `_metadata`). */
export class PyDict {
  readonly items = new Map<unknown, unknown>();
  readonly attrs = new Map<string, unknown>();
}

/** A reference to an allowed global; only the caller's handlers give it meaning. */
export class PyGlobal {
  constructor(readonly name: string) {}
}

/** What an allowed global does when a pickle calls it (REDUCE); `undefined` means it may be referenced but not called. */
export type GlobalHandler = ((args: unknown[]) => unknown) | undefined;

export interface UnpickleOptions {
  /** Names the file in errors. */
  source: string;
  /** `module.name` → handler. Every other global is refused. */
  globals: ReadonlyMap<string, GlobalHandler>;
  /** BINPERSID: torch stores tensors' storages out of band and refers to them by persistent id. */
  persistentLoad?: (pid: unknown) => unknown;
}

const MARK = Symbol('mark');

/** A short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof PyDict) return 'dict';
  if (v instanceof PyGlobal) return v.name;
  if (Array.isArray(v)) return 'tuple/list';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/**
 * Unpickles one pickle starting at `offset`; returns the value and the offset after STOP (torch's
 * legacy format is several pickles back to back, followed by raw storages).
 */
export function unpickle(bytes: Uint8Array, offset: number, opts: UnpickleOptions): { value: unknown; end: number } {
  const { source } = opts;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = offset;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const fail = (what: string, at = pos): never => {
    throw new Error(`${source}: ${what} (pickle byte ${at})`);
  };
  const need = (n: number) => {
    if (pos + n > bytes.length) fail(`truncated pickle: needs ${n} more bytes but the file ends`);
  };
  /** Checks that `n` bytes remain, advances past them and returns where they start. */
  const advance = (n: number) => {
    need(n);
    pos += n;
    return pos - n;
  };
  const u8 = () => bytes[advance(1)];
  const u16 = () => dv.getUint16(advance(2), true);
  const u32 = () => dv.getUint32(advance(4), true);
  const i32 = () => dv.getInt32(advance(4), true);
  const u64 = () => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(bytes.length)) fail(`length ${v} exceeds the file`);
    return Number(v);
  };
  const take = (n: number) => {
    need(n);
    pos += n;
    return bytes.subarray(pos - n, pos);
  };
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const str = (b: Uint8Array) => {
    try {
      return utf8.decode(b);
    } catch {
      return fail('invalid UTF-8 in a pickled string');
    }
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('truncated pickle: unterminated GLOBAL line');
    const s = new TextDecoder('latin1').decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = () => {
    if (stack.length === 0) fail('malformed pickle: stack underflow');
    const v = stack.pop();
    if (v === MARK) fail('malformed pickle: unexpected MARK');
    return v;
  };
  const top = () => {
    if (stack.length === 0 || stack[stack.length - 1] === MARK) fail('malformed pickle: stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = () => {
    const m = marks.pop();
    if (m === undefined) fail('malformed pickle: no MARK');
    const items = stack.splice(m as number);
    items.shift(); // the MARK itself
    return items;
  };
  const longLE = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const global = (name: string, at: number) => {
    if (!opts.globals.has(name)) {
      fail(
        `refusing to load: the pickle references '${name}', which is not part of a state dict ` +
          `(allowed: ${[...opts.globals.keys()].join(', ')}); nothing from the file was run`,
        at,
      );
    }
    return new PyGlobal(name);
  };
  const setItems = (target: unknown, kv: unknown[]) => {
    if (!(target instanceof PyDict)) fail(`malformed pickle: SETITEM on a ${describe(target)}`);
    for (let i = 0; i + 1 < kv.length; i += 2) (target as PyDict).items.set(kv[i], kv[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]) => {
    if (!Array.isArray(target)) fail(`malformed pickle: APPEND on a ${describe(target)}`);
    (target as unknown[]).push(...items);
  };

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('unsupported pickle protocol', at);
        break;
      case 0x95: // FRAME: only a hint for buffered readers
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) fail('malformed pickle: STOP with a stack that does not hold one value', at);
        return { value: stack[0], end: pos };
      case 0x28: // MARK
        marks.push(stack.length);
        stack.push(MARK);
        break;
      case 0x30: // POP
        if (stack.length && stack[stack.length - 1] === MARK) popMark();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x8a: // LONG1
        stack.push(longLE(take(u8())));
        break;
      case 0x8b: {
        // LONG4
        const n = i32();
        if (n < 0) fail('malformed pickle: negative LONG4 length', at);
        stack.push(longLE(take(n)));
        break;
      }
      case 0x47: // BINFLOAT: big-endian double
        need(8);
        stack.push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(str(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(str(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(str(take(u64())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()).slice());
        break;
      case 0x54: {
        // BINSTRING (Python 2 str): torch keys written by Python 2 arrive this way
        const n = i32();
        if (n < 0) fail('malformed pickle: negative BINSTRING length', at);
        stack.push(new TextDecoder('latin1').decode(take(n)));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        stack.push(new TextDecoder('latin1').decode(take(u8())));
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: {
        // DICT
        const d = new PyDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const k = op === 0x68 ? u8() : u32();
        if (!memo.has(k)) fail(`malformed pickle: memo ${k} is not set`, at);
        stack.push(memo.get(k));
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(global(`${module}.${name}`, at));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('malformed pickle: STACK_GLOBAL needs two strings', at);
        stack.push(global(`${module}.${name}`, at));
        break;
      }
      case 0x52: {
        // REDUCE: callable(*args), only for allowed globals that have a handler
        const args = pop();
        const fn = pop();
        const handler = fn instanceof PyGlobal ? opts.globals.get(fn.name) : undefined;
        if (!handler || !Array.isArray(args)) fail(`refusing to load: the pickle calls ${describe(fn)}, which a state dict never calls`, at);
        try {
          stack.push((handler as (a: unknown[]) => unknown)(args as unknown[]));
        } catch (e) {
          fail((e as Error).message, at);
        }
        break;
      }
      case 0x62: {
        // BUILD: only attribute dicts on dicts (OrderedDict._metadata)
        const state = pop();
        const target = top();
        if (!(target instanceof PyDict) || !(state instanceof PyDict)) fail(`refusing to load: BUILD on a ${describe(target)}`, at);
        for (const [k, v] of (state as PyDict).items) if (typeof k === 'string') (target as PyDict).attrs.set(k, v);
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) fail('malformed pickle: a persistent id where none is expected', at);
        try {
          stack.push(opts.persistentLoad!(pid));
        } catch (e) {
          fail((e as Error).message, at);
        }
        break;
      }
      default:
        fail(`refusing to load: pickle opcode 0x${op.toString(16).padStart(2, '0')} is not used by state dicts`, at);
    }
  }
}
