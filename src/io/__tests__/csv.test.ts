import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvRow, csvRows } from '../csv.js';

test('fields are quoted only when needed, quotes doubled', () => {
  assert.equal(csvRow(['a/b.png', 1, 0.5]), 'a/b.png,1,0.5');
  assert.equal(csvRow(['x,y.png', 'say "hi"', 'two\nlines']), '"x,y.png","say ""hi""","two\nlines"');
});

test('carriage returns and a leading quote are quoted too, so a row never splits', () => {
  assert.equal(csvRow(['a\rb.png', '"q.png', 'x\r\ny']), '"a\rb.png","""q.png","x\r\ny"');
});

test('csvRows reads back what csvRow writes: commas, quotes and line breaks inside fields, LF or CRLF rows', () => {
  const fields = [
    ['path', 'overlay'],
    ['x,y.png', 'say "hi"'],
    ['two\nlines', '"q.png'],
    ['a\r\nb', ''],
  ];
  assert.deepEqual(csvRows(`${fields.map(csvRow).join('\n')}\n`), fields);
  assert.deepEqual(csvRows('a,b\r\nc,d'), [
    ['a', 'b'],
    ['c', 'd'],
  ]);
  assert.deepEqual(csvRows(''), []);
});
