/**
 * Interop: the CLI server (`main.ts serve`, what `deno task start` runs) on a
 * fresh data directory, driven by a client written from the contract with an
 * independent Noise library (tests/interop/dissononce_client.py, using the
 * Debian package python3-dissononce).
 */
import assert from "node:assert/strict";

const PYTHON = "/usr/bin/python3";

async function hasDissononce(): Promise<boolean> {
  try {
    const r = await new Deno.Command(PYTHON, { args: ["-c", "import dissononce, cryptography"] })
      .output();
    return r.success;
  } catch {
    return false;
  }
}

const available = await hasDissononce();
if (!available) {
  console.log("interop: skipped (needs /usr/bin/python3 with python3-dissononce installed)");
}

Deno.test({
  name: "a dissononce client interoperates with `main.ts serve` on a fresh data directory",
  ignore: !available,
  async fn() {
    const dataDir = await Deno.makeTempDir();
    const server = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../../main.ts", import.meta.url).pathname, "serve"],
      env: { DATA_DIR: dataDir, SERVER_HOST: "127.0.0.1", SERVER_PORT: "0", LOG_LEVEL: "info" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      // The server prints the one command a client needs, with the real port.
      const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let out = "";
      let port = 0;
      while (port === 0) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`server exited early: ${out}`);
        out += value;
        const m = /--port (\d+) --psk-file (\S+)/.exec(out);
        if (m) {
          port = Number(m[1]);
          assert.equal(m[2], `${dataDir}/psk`);
        }
      }
      reader.releaseLock();
      const stat = await Deno.stat(`${dataDir}/psk`);
      assert.equal(stat.mode! & 0o777, 0o600, "generated key file is private");
      const psk = (await Deno.readTextFile(`${dataDir}/psk`)).trim();
      assert.ok(!out.includes(psk), "the key itself is never printed");

      const client = await new Deno.Command(PYTHON, {
        args: [
          new URL("../interop/dissononce_client.py", import.meta.url).pathname,
          "127.0.0.1",
          String(port),
          psk,
        ],
      }).output();
      const text = new TextDecoder().decode(client.stdout);
      assert.ok(client.success, text + new TextDecoder().decode(client.stderr));
      for (const step of ["handshake ok", "echo ok", "ping ok", "error 1 ok", "keyupdate ok"]) {
        assert.ok(text.includes(step), `${step} in:\n${text}`);
      }
      assert.match(text, /goaway reason 0\nOK\n$/);
    } finally {
      server.kill("SIGTERM");
      const status = await server.status;
      await server.stdout.cancel().catch(() => {});
      await server.stderr.cancel();
      assert.equal(status.code, 0, "graceful exit on SIGTERM");
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
