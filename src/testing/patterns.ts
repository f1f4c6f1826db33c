/** Deterministic test images shared with `reference/simplenet_ref.py::pattern_image`. */
export function patternImage(width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) out[(y * width + x) * 3 + c] = ((x * 73 + y * 151 + c * 199) ^ (x * y)) & 255;
    }
  }
  return out;
}
