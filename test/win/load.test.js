// The cross-built addon loads in the official node.exe and says it is the
// Windows build.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');

test('the win32-x64 prebuild loads and exports the Windows binding', () => {
  const load = require('node-gyp-build');
  const native = load(path.join(__dirname, '..', '..'));
  assert.strictEqual(native.constants.platform, 'win32');
  assert.strictEqual(typeof native.win.SocketThread, 'function');
  assert.strictEqual(typeof native.socket, 'function');
  assert.strictEqual(native.Poller, undefined);
});
