/**
 * The layer rule (docs/ARCHITECTURE.md): a folder of src/ may import only from folders below it
 * in LAYERS, never from above; no import cycles; library code never imports test helpers. Checked
 * by `npm run check:deps` in CI.
 */
const LAYERS = [
  'core', 'onnx', 'io', 'images', 'datasets', 'weights', 'backbones', 'embedding', 'heads', 'metrics', 'model',
  'scoring', 'evaluation', 'validation', 'training', 'report', 'predict', 'export', 'benchmark', 'api', 'jobs', 'queue', 'serve', 'cli',
];

const above = (i) => LAYERS.slice(i + 1).join('|');

module.exports = {
  forbidden: [
    ...LAYERS.slice(0, -1).map((layer, i) => ({
      name: `layer-${layer}`,
      comment: `src/${layer} sits below ${LAYERS.slice(i + 1).join(', ')} and must not import them`,
      severity: 'error',
      from: { path: `^src/${layer}/`, pathNot: '/__tests__/' },
      to: { path: `^src/(${above(i)})/` },
    })),
    {
      name: 'web-browser-safe-only',
      comment: 'the web app (web/src) is browser code: of src/ it may bundle only browser-safe modules (the colour map, the fit geometry)',
      severity: 'error',
      from: { path: '^web/src/' },
      to: { path: '^src/', pathNot: '^src/images/(colormap|fit)\\.ts$' },
    },
    {
      name: 'nothing-imports-the-web-app',
      comment: 'the Node layers never import the page; they serve its built files (dist/web)',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^web/' },
    },
    {
      name: 'no-cycles',
      severity: 'error',
      from: { pathNot: '/__tests__/' },
      to: { circular: true },
    },
    {
      name: 'no-test-code-in-library',
      comment: 'src/testing and __tests__ are for tests only; they are not published',
      severity: 'error',
      from: { path: '^src/', pathNot: '(^src/testing/|/__tests__/)' },
      to: { path: '(^src/testing/|/__tests__/)' },
    },
    {
      name: 'known-layers-only',
      comment: 'every folder of src/ has a place in LAYERS (or is src/testing)',
      severity: 'error',
      from: { path: '^src/[^/]+/' , pathNot: `^src/(${LAYERS.join('|')}|testing)/` },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
