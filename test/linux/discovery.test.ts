// Discovery on the rig guest's real kernel: vsock_loopback is loaded as a
// module there (and no guest-to-host transport), /dev/vsock reports CID 1,
// and there is no wslinfo.
import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { assertInTestGuest } from '../helpers/guest';
import { hvsock } from '../helpers/hvsock';

beforeAll(() => assertInTestGuest());

it('getTransportInfo() reports the loaded loopback transport and CID 1, as /proc/modules says', () => {
  const loaded = readFileSync('/proc/modules', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[0]);
  const info = hvsock.getTransportInfo();
  console.log('guest transports:', JSON.stringify(info));
  expect(loaded).toContain('vsock_loopback');
  expect(info).toMatchObject({ vsock: true, localCid: 1, loopback: true, host: false });
  expect(info.transports).toContainEqual({ name: 'loopback', module: 'vsock_loopback', state: 'loaded' });
  const virtio = loaded.includes('vmw_vsock_virtio_transport');
  expect(info.guest).toBe(virtio ? 'virtio' : undefined);
});

it('getWslVmId() outside WSL rejects with ERR_HVSOCK_DISCOVERY (wslinfo not found)', async () => {
  await expect(hvsock.getWslVmId()).rejects.toMatchObject({ code: 'ERR_HVSOCK_DISCOVERY', message: 'wslinfo --vm-id not found' });
});
