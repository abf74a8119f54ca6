// Facts about this machine's vsock endpoint.
import { binding } from '../binding';
import { HvsockError, systemError } from '../errors';

/**
 * This machine's own CID (IOCTL_VM_SOCKETS_GET_LOCAL_CID on /dev/vsock).
 * Throws a system error (syscall 'ioctl') where there is no vsock device.
 */
export function getLocalCid(): number {
  if (process.platform === 'win32') {
    throw new HvsockError(
      'ERR_HVSOCK_UNSUPPORTED_PLATFORM',
      'getLocalCid: Windows has no vsock CIDs (partitions are named by VM id GUIDs)',
    );
  }
  const status = binding().localCid();
  if (status < 0) {
    const error = systemError(status, 'ioctl', { uri: '/dev/vsock' });
    if (error.code === 'ENOENT') error.hint = 'no /dev/vsock: load the vsock kernel module (modprobe vsock)';
    throw error;
  }
  return status;
}
