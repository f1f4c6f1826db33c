import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tsvField, tsvRow } from '../tsv.js';

test('plain names are written as they are; names that would break a row are JSON string literals', () => {
  assert.equal(tsvField('good/000.png'), 'good/000.png');
  assert.equal(tsvField('with space, comma "and" quote.png'), 'with space, comma "and" quote.png');
  assert.equal(tsvField('a\nb.png'), '"a\\nb.png"');
  assert.equal(tsvField('a\tb.png'), '"a\\tb.png"');
  assert.equal(tsvField('a\rb.png'), '"a\\rb.png"');
  assert.equal(tsvField('a\\b.png'), '"a\\\\b.png"');
  assert.equal(tsvField('"quoted".png'), '"\\"quoted\\".png"');
  assert.equal(tsvField('bell\u0007.png'), '"bell\\u0007.png"');
  for (const name of ['a\nb.png', 'a\tb', 'c:\\x', '"q', 'x\r\n']) assert.equal(JSON.parse(tsvField(name)), name);
  const row = tsvRow(['a\nb.png', '0.5', 'normal']);
  assert.equal(row.split('\n').length, 1);
  assert.deepEqual(row.split('\t'), ['"a\\nb.png"', '0.5', 'normal']);
});
