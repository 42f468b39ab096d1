/**
 * TCP_NODELAY for Deno's TLS sockets, which expose no `setNoDelay` (Deno 2.9:
 * `Deno.TlsConn` has none, and `Deno.listenTls` does not set it; checked with
 * `strace -e setsockopt`).
 *
 * Linux copies TCP_NODELAY from a listening socket to the sockets it accepts,
 * so setting it once on the listener (found through /proc by its port, then
 * `setsockopt` through libc FFI) covers every accepted TLS connection.
 * {@linkcode acceptedNoDelay} reads it back to prove it. Linux only.
 *
 * @module
 */

const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;
const TCP_LISTEN = "0A";
const TCP_ESTABLISHED = "01";

let libc:
  | Deno.DynamicLibrary<{
    setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"]; result: "i32" };
    getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"]; result: "i32" };
  }>
  | undefined;

function openLibc(): NonNullable<typeof libc> {
  libc ??= Deno.dlopen("libc.so.6", {
    setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
    getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  });
  return libc;
}

/** Socket inodes of this network namespace's TCP sockets with local `port` in `state`. */
function socketInodes(port: number, state: string): Set<string> {
  const inodes = new Set<string>();
  for (const file of ["/proc/self/net/tcp", "/proc/self/net/tcp6"]) {
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const localPort = parseInt(f[1].split(":")[1], 16);
      if (localPort === port && f[3] === state) inodes.add(f[9]);
    }
  }
  return inodes;
}

/** This process's file descriptors that are one of `inodes`. */
function fdsOf(inodes: Set<string>): number[] {
  const fds: number[] = [];
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    let target: string;
    try {
      target = Deno.readLinkSync(`/proc/self/fd/${e.name}`);
    } catch {
      continue;
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m && inodes.has(m[1])) fds.push(Number(e.name));
  }
  return fds;
}

/**
 * Set TCP_NODELAY on this process's listening socket on `port`.
 * @throws {Error} if the socket is not found or setsockopt fails.
 */
export function setListenerNoDelay(port: number): void {
  const fds = fdsOf(socketInodes(port, TCP_LISTEN));
  if (fds.length === 0) throw new Error(`no listening socket of this process on port ${port}`);
  const one = new Int32Array([1]);
  for (const fd of fds) {
    if (openLibc().symbols.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, one, 4) !== 0) {
      throw new Error(`setsockopt(TCP_NODELAY) failed on fd ${fd}`);
    }
  }
}

/** TCP_NODELAY of every connection this process accepted on `port` (true when all have it). */
export function acceptedNoDelay(port: number): { sockets: number; noDelay: boolean } {
  const fds = fdsOf(socketInodes(port, TCP_ESTABLISHED));
  let all = true;
  for (const fd of fds) {
    const v = new Int32Array(1);
    const len = new Uint32Array([4]);
    const r = openLibc().symbols.getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, v, len);
    if (r !== 0 || v[0] === 0) all = false;
  }
  return { sockets: fds.length, noDelay: fds.length > 0 && all };
}
