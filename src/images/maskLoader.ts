/**
 * Ground-truth masks go through the same resize and crop (or squash, or letterbox: the frame of
 * `image.fit`, images/fit.ts `frameGeometry`) as their images (the preprocessing graph on one channel; letterbox padding is 0), then are binarised at 0.5, so pixel metrics compare like with like. Any nonzero
 * value marks a defect before resizing (VisA and users' masks use 1 as well as 255).
 */
import { GraphBuilder } from '../onnx/builder.js';
import { ortTensor, Session } from '../onnx/session.js';
import { tensor } from '../onnx/tensor.js';
import { decodeImage } from './decode.js';
import { frameGeometry, type ImageGeometry } from './fit.js';
import { addPreprocess } from './preprocess.js';

export class MaskLoader {
  private readonly insides = new Map<string, Uint8Array>();

  private constructor(
    private readonly session: Session,
    readonly size: number,
  ) {}

  static async create(image: ImageGeometry): Promise<MaskLoader> {
    const g = new GraphBuilder('mask');
    const input = g.input('mask', 'uint8', [1, 'height', 'width', 1]);
    const u8 = (v: number) => g.constant(tensor('uint8', [], Uint8Array.of(v)), 'u8');
    const binary255 = g.op('Where', [g.op('Greater', [input, u8(0)]), u8(255), u8(0)]);
    // The frame the maps are given in ('tile' maps cover the image as 'squash' does).
    const unit = addPreprocess(g, binary255, frameGeometry(image));
    const binary = g.cast(g.op('Greater', [unit, g.scalarF32(0.5)]), 'uint8');
    g.output(binary, 'binary', 'uint8', [1, 1, image.crop, image.crop]);
    return new MaskLoader(await Session.create(g.toModel(), 'mask preprocessing'), image.crop);
  }

  /**
   * The binary mask (1 = defect) in the crop frame, [size·size]. Several files (one per defect, as
   * MVTec LOCO stores them) are united at full resolution first, then resized once like one mask.
   */
  async load(paths: string | readonly string[], expected?: { width: number; height: number }): Promise<{ mask: Uint8Array; resized: boolean }> {
    const list = typeof paths === 'string' ? [paths] : paths;
    if (list.length === 0) throw new RangeError('MaskLoader.load: no mask files');
    const first = await decodeImage(list[0], { channels: 1 });
    const union = first.data;
    for (const p of list.slice(1)) {
      const m = await decodeImage(p, { channels: 1 });
      if (m.width !== first.width || m.height !== first.height) {
        throw new Error(`${p}: mask is ${m.width}×${m.height} but ${list[0]} is ${first.width}×${first.height}`);
      }
      for (let i = 0; i < union.length; i++) union[i] |= m.data[i];
    }
    const resized = expected !== undefined && (first.width !== expected.width || first.height !== expected.height);
    const out = await this.session.run({ mask: ortTensor('uint8', [1, first.height, first.width, 1], union) });
    return { mask: out.binary.data as Uint8Array, resized };
  }

  /**
   * Which frame pixels hold image (1) rather than letterbox padding (0), for a width×height image:
   * a mask that is all defect, through the same graph (all ones except letterbox padding).
   */
  async inside(width: number, height: number): Promise<Uint8Array> {
    const key = `${width}x${height}`;
    const known = this.insides.get(key);
    if (known) return known;
    const out = await this.session.run({ mask: ortTensor('uint8', [1, height, width, 1], new Uint8Array(width * height).fill(1)) });
    const inside = out.binary.data as Uint8Array;
    this.insides.set(key, inside);
    return inside;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
