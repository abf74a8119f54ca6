// Writes a cpio "newc" archive (the initramfs format the kernel unpacks).
// Done in JS because the host has no cpio binary; left uncompressed because
// under TCG the kernel's gunzip costs more than copying ~3 MiB.

/** @typedef {{ name: string, mode: number, data?: Buffer, rdev?: [number, number] }} Entry */

const S_IFDIR = 0o040000,
  S_IFREG = 0o100000,
  S_IFCHR = 0o020000;

export const dir = (name, perm = 0o755) => ({ name, mode: S_IFDIR | perm });
export const file = (name, data, perm = 0o644) => ({ name, mode: S_IFREG | perm, data });
export const chardev = (name, major, minor, perm = 0o600) => ({ name, mode: S_IFCHR | perm, rdev: [major, minor] });

const pad4 = (n) => (4 - (n % 4)) % 4;

function header(ino, { name, mode, data, rdev = [0, 0] }) {
  const nameBytes = Buffer.from(name + '\0');
  const fields = [ino, mode, 0, 0, 1, 0, data ? data.length : 0, 0, 0, rdev[0], rdev[1], nameBytes.length, 0];
  const head = Buffer.from('070701' + fields.map((v) => v.toString(16).padStart(8, '0')).join(''));
  return [head, nameBytes, Buffer.alloc(pad4(head.length + nameBytes.length))];
}

/** @param {Entry[]} entries parents before children; names without leading '/' */
export function cpio(entries) {
  const parts = [];
  entries.forEach((e, i) => {
    parts.push(...header(i + 1, e));
    if (e.data) parts.push(e.data, Buffer.alloc(pad4(e.data.length)));
  });
  parts.push(...header(0, { name: 'TRAILER!!!', mode: 0 }));
  return Buffer.concat(parts);
}
