/**
 * The datasets `simplenet datasets pull` knows: where their official archives are, what the
 * archives hold, and the checksums published for them. The whole MVTec AD archive and the VisA
 * archive have published sha256s; MVTec publishes none for its per-category archives, so for those
 * the sha256 of what arrived is recorded and printed (`--sha256` pins one). VisA's official
 * one-class split, `split_csv/1cls.csv`, is pinned by its sha256 and fetched when the archive does
 * not hold that exact file.
 *
 * MVTec moves its download links from time to time (the archive stays the same file): each
 * archive lists the current link first and the earlier ones after it, tried in order.
 */

export interface DatasetArchive {
  /** A category the archive holds alone, or 'all'. */
  part: string;
  /** The archive's file name (the download is kept under it until it is unpacked). */
  file: string;
  /** Official locations, tried in order. */
  urls: string[];
  /** Full sha256 where one is published; otherwise the sha256 of what arrived is recorded. */
  sha256?: string;
  /** Most bytes the archive may unpack to (a bound against damaged or hostile archives). */
  maxBytes: number;
  /** Top-level entries the dataset root has once this archive is in place. */
  provides: string[];
}

/** A file the prepared dataset must hold with this exact content (fetched when the archive lacks it). */
export interface DatasetFile {
  /** Path inside the dataset root, `/`-separated. */
  path: string;
  urls: string[];
  sha256: string;
}

export interface KnownDataset {
  /** `datasets pull <name>`; also the folder name under `$SIMPLENET_HOME/datasets/`. */
  name: string;
  title: string;
  /** The `--format` that reads it (datasets/formats.ts). */
  format: 'mvtec' | 'visa';
  categories: readonly string[];
  /** The category the printed `train` command uses when none was asked for. */
  defaultCategory: string;
  licence: string;
  homepage: string;
  /** The whole dataset ('all') and, where published, one archive per category. */
  archives: DatasetArchive[];
  files?: DatasetFile[];
}

const GiB = 2 ** 30;

export const MVTEC_AD_CATEGORIES = [
  'bottle',
  'cable',
  'capsule',
  'carpet',
  'grid',
  'hazelnut',
  'leather',
  'metal_nut',
  'pill',
  'screw',
  'tile',
  'toothbrush',
  'transistor',
  'wood',
  'zipper',
] as const;

const MYDRIVE = 'https://www.mydrive.ch/shares/';

/** Per category: today's link, then the 2021 link (share 38536, except pill's). */
const MVTEC_CATEGORY_LINKS: Record<(typeof MVTEC_AD_CATEGORIES)[number], [string, string]> = {
  bottle: ['150452/132a93367fb17cdf968dfb5c4013f6e7/download/420937370-1629958698', '38536/3830184030e49fe74747669442f0f282/download/420937370-1629951468'],
  cable: ['150453/10f960e07fec2838b2cd512586633a32/download/420937413-1629958794', '38536/3830184030e49fe74747669442f0f282/download/420937413-1629951498'],
  capsule: ['150454/e0ce6dd74eb150f46c0d98131b3703f2/download/420937454-1629958872', '38536/3830184030e49fe74747669442f0f282/download/420937454-1629951595'],
  carpet: ['150455/eac7fbce84d93a5094e13f391170eca4/download/420937484-1629959013', '38536/3830184030e49fe74747669442f0f282/download/420937484-1629951672'],
  grid: ['150456/bb0b2e3dc804ccb8b4485e01f8e4493b/download/420937487-1629959044', '38536/3830184030e49fe74747669442f0f282/download/420937487-1629951814'],
  hazelnut: ['150457/51d49f65e84bdc100ff8035d7dd783ea/download/420937545-1629959162', '38536/3830184030e49fe74747669442f0f282/download/420937545-1629951845'],
  leather: ['150458/923030ce14e10a7d147e95d0f8885f6b/download/420937607-1629959262', '38536/3830184030e49fe74747669442f0f282/download/420937607-1629951964'],
  metal_nut: ['150459/c68856a21dca589b0f8ff6d4ee0f18f4/download/420937637-1629959294', '38536/3830184030e49fe74747669442f0f282/download/420937637-1629952063'],
  pill: ['150460/d4f1c04da67034ccc8d8b5fa3e73f244/download/420938129-1629960351', '43421/11a215a5749fcfb75e331ddd5f8e43ee/download/420938129-1629953099'],
  screw: ['150461/242f454cc6385e5693c4fd4b94567d1e/download/420938130-1629960389', '38536/3830184030e49fe74747669442f0f282/download/420938130-1629953152'],
  tile: ['150462/5479f0fdc97bc6fa16eab0cb0cf0109f/download/420938133-1629960456', '38536/3830184030e49fe74747669442f0f282/download/420938133-1629953189'],
  toothbrush: ['150463/895a1a5fb84b958f07417784b060434b/download/420938134-1629960477', '38536/3830184030e49fe74747669442f0f282/download/420938134-1629953256'],
  transistor: ['150464/99b8ea0332438d64fcc2475ee73f9c29/download/420938166-1629960554', '38536/3830184030e49fe74747669442f0f282/download/420938166-1629953277'],
  wood: ['150465/d5b4115b720cdb54d217e75636e6e374/download/420938383-1629960649', '38536/3830184030e49fe74747669442f0f282/download/420938383-1629953354'],
  zipper: ['150466/bd155b557520edaf692d9bfdb915c24a/download/420938385-1629960680', '38536/3830184030e49fe74747669442f0f282/download/420938385-1629953449'],
};

export const MVTEC_AD: KnownDataset = {
  name: 'mvtec_ad',
  title: 'MVTec AD',
  format: 'mvtec',
  categories: MVTEC_AD_CATEGORIES,
  defaultCategory: 'bottle',
  licence: 'CC BY-NC-SA 4.0 (non-commercial)',
  homepage: 'https://www.mvtec.com/company/research/datasets/mvtec-ad',
  archives: [
    {
      part: 'all',
      file: 'mvtec_anomaly_detection.tar.xz',
      urls: [
        `${MYDRIVE}150996/b52ecdcbf521176e9db9c731f2304b27/download/420938113-1629960298/mvtec_anomaly_detection.tar.xz`,
        `${MYDRIVE}38536/3830184030e49fe74747669442f0f283/download/420938113-1629960298/mvtec_anomaly_detection.tar.xz`,
        `${MYDRIVE}38536/3830184030e49fe74747669442f0f282/download/420938113-1629952094/mvtec_anomaly_detection.tar.xz`,
      ],
      sha256: 'cf4313b13603bec67abb49ca959488f7eedce2a9f7795ec54446c649ac98cd3d',
      maxBytes: 16 * GiB,
      provides: [...MVTEC_AD_CATEGORIES],
    },
    ...MVTEC_AD_CATEGORIES.map((c) => ({
      part: c,
      file: `${c}.tar.xz`,
      urls: MVTEC_CATEGORY_LINKS[c].map((link) => `${MYDRIVE}${link}/${c}.tar.xz`),
      maxBytes: 4 * GiB,
      provides: [c],
    })),
  ],
};

export const VISA_CATEGORIES = [
  'candle',
  'capsules',
  'cashew',
  'chewinggum',
  'fryum',
  'macaroni1',
  'macaroni2',
  'pcb1',
  'pcb2',
  'pcb3',
  'pcb4',
  'pipe_fryum',
] as const;

export const VISA: KnownDataset = {
  name: 'visa',
  title: 'VisA',
  format: 'visa',
  categories: VISA_CATEGORIES,
  defaultCategory: 'candle',
  licence: 'CC BY-NC-SA 4.0 (non-commercial)',
  homepage: 'https://github.com/amazon-science/spot-diff',
  archives: [
    {
      part: 'all',
      file: 'VisA_20220922.tar',
      urls: ['https://amazon-visual-anomaly.s3.us-west-2.amazonaws.com/VisA_20220922.tar'],
      sha256: '2eb8690c803ab37de0324772964100169ec8ba1fa3f7e94291c9ca673f40f362',
      maxBytes: 16 * GiB,
      provides: [...VISA_CATEGORIES, 'split_csv'],
    },
  ],
  files: [
    {
      path: 'split_csv/1cls.csv',
      urls: ['https://raw.githubusercontent.com/amazon-science/spot-diff/main/split_csv/1cls.csv'],
      sha256: 'a48557e6033318cb90556f706196bc9d247a776a23ea51aecee5a80dd0332995',
    },
  ],
};

/** Every dataset `datasets pull` knows, in the order `datasets list` shows them. */
export const KNOWN_DATASETS: readonly KnownDataset[] = [MVTEC_AD, VISA];

/** @throws Error listing the known names. */
export function knownDataset(name: string): KnownDataset {
  const d = KNOWN_DATASETS.find((k) => k.name === name);
  if (!d) throw new Error(`unknown dataset '${name}': expected one of ${KNOWN_DATASETS.map((k) => k.name).join(', ')}`);
  return d;
}

/**
 * The archive that brings `category` (its own where one is published, else the whole dataset).
 * @throws Error naming the known categories.
 */
export function archiveFor(d: KnownDataset, category?: string): DatasetArchive {
  if (category !== undefined && !d.categories.includes(category)) {
    throw new Error(`${d.name}: unknown category '${category}': expected one of ${d.categories.join(', ')}`);
  }
  const own = category === undefined ? undefined : d.archives.find((a) => a.part === category);
  const all = d.archives.find((a) => a.part === 'all');
  const a = own ?? all;
  if (!a) throw new Error(`${d.name}: no archive for ${category ?? 'the whole dataset'}`);
  return a;
}
