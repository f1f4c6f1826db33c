import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvRow } from '../csv.js';

test('fields are quoted only when needed, quotes doubled', () => {
  assert.equal(csvRow(['a/b.png', 1, 0.5]), 'a/b.png,1,0.5');
  assert.equal(csvRow(['x,y.png', 'say "hi"', 'two\nlines']), '"x,y.png","say ""hi""","two\nlines"');
});
