import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type EpochLog, logCsv, readTrainingLog } from '../modelDir.js';
import { testTempDir } from '../../testing/tempDir.js';

test('training_log.csv round-trips, including events with commas, older five-column logs and logs without AUPRO', async () => {
  const dir = testTempDir('simplenet-log-');
  const log: EpochLog[] = [
    { epoch: 1, loss: 1.25, pTrue: 0.5, pFake: 0.25, seconds: 2, lrFactor: 1, valImageAuroc: 0.75, valPatchAuroc: 0.5, valPatchAupro: 0.625 },
    { epoch: 2, loss: 1.5, pTrue: 0, pFake: 0, seconds: 2, lrFactor: 0.5, event: 'rollback to epoch 1, learning rates ×0.5' },
  ];
  writeFileSync(join(dir, 'training_log.csv'), logCsv(log));
  assert.deepEqual(await readTrainingLog(dir), log);
  writeFileSync(join(dir, 'training_log.csv'), 'epoch,loss,p_true,p_fake,seconds\n1,1.2,0.1,0.2,3.000\n');
  assert.deepEqual(await readTrainingLog(dir), [{ epoch: 1, loss: 1.2, pTrue: 0.1, pFake: 0.2, seconds: 3 }]);
  // Logs from before val_patch_aupro: the other columns by name, no AUPRO.
  const before = 'epoch,loss,p_true,p_fake,seconds,lr_factor,val_image_auroc,val_patch_auroc,event\n1,1,0.5,0.25,2.000,1,0.75,0.5,\n';
  writeFileSync(join(dir, 'training_log.csv'), before);
  assert.deepEqual(await readTrainingLog(dir), [
    { epoch: 1, loss: 1, pTrue: 0.5, pFake: 0.25, seconds: 2, lrFactor: 1, valImageAuroc: 0.75, valPatchAuroc: 0.5 },
  ]);
});
