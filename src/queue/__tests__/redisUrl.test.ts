import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskRedisUrl, maskSecrets, parseRedisUrl } from '../redisUrl.js';

test('the password of a Redis URL is masked wherever the URL is shown', () => {
  assert.equal(maskRedisUrl('redis://:hunter2@cache:6380/2'), 'redis://:***@cache:6380/2');
  assert.equal(maskRedisUrl('redis://user:p%40ss@cache'), 'redis://user:***@cache');
  assert.equal(maskRedisUrl('redis://cache:6379'), 'redis://cache:6379');
  assert.equal(maskRedisUrl('not a url://:x@y'), 'not a url://***@y');
  assert.equal(maskSecrets('AUTH p@ss failed for redis://user:p%40ss@cache', 'redis://user:p%40ss@cache'), 'AUTH *** failed for redis://user:***@cache');
});

test('a Redis URL becomes connection options; a bad one is one error with the password masked', () => {
  assert.deepEqual(parseRedisUrl('redis://:hunter2@cache:6380/2'), { host: 'cache', port: 6380, password: 'hunter2', db: 2, maxRetriesPerRequest: null });
  assert.deepEqual(parseRedisUrl('rediss://u:p@h'), { host: 'h', port: 6379, username: 'u', password: 'p', db: 0, tls: {}, maxRetriesPerRequest: null });
  assert.throws(
    () => parseRedisUrl('http://:hunter2@cache'),
    (e: Error) => e.message === '--redis http://:***@cache: expected a redis:// or rediss:// URL',
  );
  assert.throws(() => parseRedisUrl('redis://:hunter2@cache/x'), /database 'x' is not a number/);
});
