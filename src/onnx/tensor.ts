/** Plain tensors as they travel between our code, safetensors/npy files and ONNX initializers. */

/**
 * Element types a tensor can have here. float16 data is held as raw bits in a Uint16Array; bool
 * as a Uint8Array.
 * @example const dtype: DType = 'float32';
 */
export type DType = 'float32' | 'float16' | 'float64' | 'uint8' | 'int8' | 'int32' | 'int64' | 'bool';

/**
 * The typed array that holds a dtype's elements: Float32Array for 'float32', Uint16Array (the raw
 * bits) for 'float16', BigInt64Array for 'int64', Uint8Array for 'uint8' and 'bool', and so on.
 * @example const data: TypedArrayOf<'int64'> = new BigInt64Array([1n, 3n]);
 */
export type TypedArrayOf<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'float16'
      ? Uint16Array
      : D extends 'int32'
        ? Int32Array
        : D extends 'int64'
          ? BigInt64Array
          : D extends 'int8'
            ? Int8Array
            : Uint8Array;

export type AnyTypedArray = Float32Array | Float64Array | Uint16Array | Int32Array | BigInt64Array | Int8Array | Uint8Array;

/**
 * A tensor in plain JavaScript memory: dtype, dimensions and the row-major data. What safetensors
 * and npy files are read into and graph initializers are made of.
 * @example const t: HostTensor<'float32'> = { dtype: 'float32', dims: [2, 3], data: new Float32Array(6) };
 */
export interface HostTensor<D extends DType = DType> {
  readonly dtype: D;
  /** Dimensions, outermost first; [] for a scalar. */
  readonly dims: readonly number[];
  /** The elements in row-major order; its length is the product of `dims`. */
  readonly data: TypedArrayOf<D>;
}

export function numel(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function tensor<D extends DType>(dtype: D, dims: readonly number[], data: TypedArrayOf<D>): HostTensor<D> {
  if (data.length !== numel(dims)) {
    throw new RangeError(`tensor data has ${data.length} elements but dims [${dims.join(', ')}] need ${numel(dims)}`);
  }
  return { dtype, dims: [...dims], data };
}

export function f32(dims: readonly number[], data?: ArrayLike<number>): HostTensor<'float32'> {
  return tensor('float32', dims, data ? Float32Array.from(data) : new Float32Array(numel(dims)));
}

export function f64(dims: readonly number[], data?: ArrayLike<number>): HostTensor<'float64'> {
  return tensor('float64', dims, data ? Float64Array.from(data) : new Float64Array(numel(dims)));
}

export function i32(dims: readonly number[], data: ArrayLike<number>): HostTensor<'int32'> {
  return tensor('int32', dims, Int32Array.from(data));
}

export function i64(dims: readonly number[], data: ArrayLike<number | bigint>): HostTensor<'int64'> {
  const arr = new BigInt64Array(data.length);
  for (let i = 0; i < data.length; i++) arr[i] = BigInt(data[i]);
  return tensor('int64', dims, arr);
}

export function bytesPerElement(dtype: DType): number {
  switch (dtype) {
    case 'float64':
    case 'int64':
      return 8;
    case 'float32':
    case 'int32':
      return 4;
    case 'float16':
      return 2;
    default:
      return 1;
  }
}

/** The tensor's data as little-endian bytes (a view where possible: this machine is little-endian). */
export function tensorBytes(t: HostTensor): Uint8Array {
  const d = t.data as AnyTypedArray;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** The whole of `buffer` seen as elements of `dtype` (no copy). */
export function typedView<D extends DType>(dtype: D, buffer: ArrayBuffer): TypedArrayOf<D> {
  const view = {
    float32: () => new Float32Array(buffer),
    float64: () => new Float64Array(buffer),
    float16: () => new Uint16Array(buffer),
    int32: () => new Int32Array(buffer),
    int64: () => new BigInt64Array(buffer),
    int8: () => new Int8Array(buffer),
    uint8: () => new Uint8Array(buffer),
    bool: () => new Uint8Array(buffer),
  }[dtype]();
  return view as TypedArrayOf<D>;
}

/** Copies bytes (which need not be aligned) into a new typed array of the dtype. */
export function fromBytes<D extends DType>(dtype: D, dims: readonly number[], bytes: Uint8Array): HostTensor<D> {
  const n = numel(dims);
  const size = bytesPerElement(dtype);
  if (bytes.length !== n * size) {
    throw new RangeError(`expected ${n * size} bytes for ${dtype} [${dims.join(', ')}], got ${bytes.length}`);
  }
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const data = typedView(dtype, copy.buffer);
  return tensor(dtype, dims, data);
}
