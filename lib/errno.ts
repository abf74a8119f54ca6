// libuv's error numbers as the native layer returns them on Linux (there
// UV_E* is -errno). The one table: no module re-declares them. Windows paths
// compare against the binding's own statuses, not these.
export const UV_EAGAIN = -11;
export const UV_ENOMEM = -12;
export const UV_ENFILE = -23;
export const UV_EMFILE = -24;
export const UV_ENOTSOCK = -88;
export const UV_EMSGSIZE = -90;
export const UV_ECONNABORTED = -103;
export const UV_ENOTCONN = -107;
export const UV_EINPROGRESS = -115;
