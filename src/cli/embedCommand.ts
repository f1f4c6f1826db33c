import type { Command } from 'commander';
import { resolveBackbone } from '../backbones/backbone.js';
import { FeatureExtractor } from '../embedding/featureExtractor.js';
import { decodeImage } from '../images/decode.js';
import { resolveTiles } from '../images/fit.js';
import { prepareOutput, writeFileAtomic } from '../io/atomic.js';
import { encodeNpy } from '../io/npy.js';
import type { HostTensor } from '../onnx/tensor.js';
import { loadConfig } from './options.js';
import { stderrReporter } from './progress.js';

interface EmbedFlags {
  backbone: string;
  weights?: string;
  image: string;
  out: string;
  config?: string;
}

export function embedCommand(program: Command): void {
  program
    .command('embed')
    .description("write one image's patch features (N×targetDim float32, row i·W + j) as .npy")
    .requiredOption(
      '--backbone <name|manifest>',
      'builtin backbone (wide_resnet50_2, resnet18, resnet50, wide_resnet101_2, mobilenet_v2: shipped in the package) or a backbone manifest .json',
    )
    .option(
      '--weights <file>',
      'state dict for a builtin backbone (.safetensors or torchvision .pth); default: the cached ImageNet weights, pulled on first use',
    )
    .requiredOption('--image <file>', 'image to embed')
    .requiredOption('--out <features.npy>', 'output file')
    .option('--config <file|json>', 'JSON or YAML configuration, a file or the JSON itself (image and embed sections apply)')
    .action(async (flags: EmbedFlags) => {
      await prepareOutput(flags.out, 'npy');
      const config = await loadConfig(flags.config, {});
      const backbone = await resolveBackbone({ backbone: flags.backbone, weights: flags.weights, reporter: stderrReporter() });
      const image = await decodeImage(flags.image);
      // image.tiles 'auto' (fit 'tile'): the tiles of this image's aspect, as training would choose.
      const extractor = await FeatureExtractor.create(backbone, { image: resolveTiles(config.image, image.width, image.height), embed: config.embed });
      const features = await extractor.extract([image]);
      await extractor.release();
      const t: HostTensor = { dtype: 'float32', dims: [...features.dims], data: features.data as Float32Array };
      await writeFileAtomic(flags.out, encodeNpy(t), 'npy');
      process.stdout.write(`${JSON.stringify({ out: flags.out, shape: t.dims, grid: extractor.grid })}\n`);
    });
}
