import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SETTINGS, normalizeSettings, signOffFromGit } from '../../src/core/settings';

test('defaults when nothing is set', () => {
  assert.deepEqual(normalizeSettings({}), { settings: DEFAULT_SETTINGS, problems: [] });
});

test('valid values pass through, normalised', () => {
  const { settings, problems } = normalizeSettings({
    upstreamRemote: 'torvalds',
    commitOverrides: { ed07d9a021df: ' ABCDEF1234 ' },
    bugNumber: 'LP: #1836816',
    signOff: 'Jane Doe <jane@example.org>',
    sruSeries: 'focal',
    messageStyle: 'stable',
  });
  assert.deepEqual(problems, []);
  assert.deepEqual(settings, {
    upstreamRemote: 'torvalds',
    commitOverrides: { ed07d9a021df: 'abcdef1234' },
    bugNumber: '1836816',
    signOff: 'Jane Doe <jane@example.org>',
    sruSeries: 'Focal',
    messageStyle: 'stable',
  });
  assert.equal(normalizeSettings({ bugNumber: 'https://bugs.launchpad.net/bugs/1795493' }).settings.bugNumber, '1795493');
});

test('invalid values fall back and are named', () => {
  const { settings, problems } = normalizeSettings({
    upstreamRemote: '--upload-pack=evil',
    commitOverrides: { nope: 'abc1234', '4e35c1cb9460': 'xyz' },
    bugNumber: 'soon',
    signOff: 'jane',
    messageStyle: 'kernel',
  });
  assert.equal(settings.upstreamRemote, 'upstream');
  assert.deepEqual(settings.commitOverrides, {});
  assert.equal(settings.bugNumber, '');
  assert.equal(settings.signOff, '');
  assert.equal(settings.messageStyle, 'sru');
  assert.equal(problems.length, 6);
});

test('sign-off from git config', () => {
  assert.equal(signOffFromGit('Jane Doe', 'jane@example.org'), 'Jane Doe <jane@example.org>');
  assert.equal(signOffFromGit('Jane Doe', undefined), '');
});
