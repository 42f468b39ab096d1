import assert from "node:assert/strict";
import { ensureDefaultPsk } from "../../src/config/mod.ts";
import { ConfigError } from "../../src/errors.ts";
import { toHex } from "../../src/util/mod.ts";

const posix = Deno.build.os !== "windows";

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "somnytoo-psk-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function rejectsConfig(p: Promise<unknown>, code: string): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    assert.equal(e.code, code);
    return e.message;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("ensureDefaultPsk creates the data dir (0700) and a 0600 key file", async () => {
  await withTempDir(async (tmp) => {
    const dataDir = `${tmp}/nested/data`;
    const r = await ensureDefaultPsk(dataDir);
    assert.equal(r.created, true);
    assert.equal(r.path, `${dataDir}/psk`);
    assert.equal(r.psk.length, 32);
    assert.notDeepEqual(r.psk, new Uint8Array(32));
    const text = await Deno.readTextFile(r.path);
    assert.equal(text, toHex(r.psk) + "\n");
    if (posix) {
      assert.equal((await Deno.stat(r.path)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(dataDir)).mode! & 0o077, 0);
    }
    const leftovers = [...Deno.readDirSync(dataDir)].map((e) => e.name);
    assert.deepEqual(leftovers, ["psk"], "no temp files left behind");
  });
});

Deno.test("ensureDefaultPsk reuses an existing key", async () => {
  await withTempDir(async (dir) => {
    const first = await ensureDefaultPsk(dir + "/");
    const second = await ensureDefaultPsk(dir);
    assert.equal(second.created, false);
    assert.deepEqual(second.psk, first.psk);
    assert.equal(second.path, `${dir}/psk`);
  });
});

Deno.test("ensureDefaultPsk accepts a hand-written key without a newline", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/psk`, "AB".repeat(32), { mode: 0o600 });
    if (posix) await Deno.chmod(`${dir}/psk`, 0o600);
    const r = await ensureDefaultPsk(dir);
    assert.equal(r.created, false);
    assert.equal(toHex(r.psk), "ab".repeat(32));
  });
});

Deno.test({
  name: "ensureDefaultPsk refuses a group- or world-readable key file and says how to fix it",
  ignore: !posix,
  fn: async () => {
    await withTempDir(async (dir) => {
      const { psk } = await ensureDefaultPsk(dir);
      for (const mode of [0o644, 0o640, 0o604, 0o660]) {
        await Deno.chmod(`${dir}/psk`, mode);
        const msg = await rejectsConfig(ensureDefaultPsk(dir), "CONFIG_INVALID");
        assert.equal(
          msg,
          `PSK file ${dir}/psk is accessible by group or others (mode ${
            mode.toString(8)
          }); restrict it with: chmod 600 ${dir}/psk`,
        );
        assert.ok(!msg.includes(toHex(psk).slice(0, 8)));
      }
      await Deno.chmod(`${dir}/psk`, 0o600);
      assert.deepEqual((await ensureDefaultPsk(dir)).psk, psk);
    });
  },
});

Deno.test("ensureDefaultPsk refuses a malformed key file without quoting it", async () => {
  await withTempDir(async (dir) => {
    for (
      const content of ["", "abc\n", "ab".repeat(32) + "\n\n", "zz".repeat(32), "ab".repeat(33)]
    ) {
      await Deno.writeTextFile(`${dir}/psk`, content, { mode: 0o600 });
      if (posix) await Deno.chmod(`${dir}/psk`, 0o600);
      const msg = await rejectsConfig(ensureDefaultPsk(dir), "CONFIG_INVALID");
      assert.match(msg, /^PSK file .*\/psk is malformed: expected 64 hex characters/);
      if (content.length >= 8) assert.ok(!msg.includes(content.slice(0, 8)));
    }
  });
});

Deno.test("ensureDefaultPsk refuses a directory in place of the key file", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/psk`);
    const msg = await rejectsConfig(ensureDefaultPsk(dir), "CONFIG_INVALID");
    assert.equal(msg, `PSK file ${dir}/psk is not a regular file`);
  });
});

Deno.test("concurrent ensureDefaultPsk calls agree on one key and create it once", async () => {
  await withTempDir(async (dir) => {
    const results = await Promise.all(Array.from({ length: 8 }, () => ensureDefaultPsk(dir)));
    assert.equal(results.filter((r) => r.created).length, 1);
    const onDisk = (await Deno.readTextFile(`${dir}/psk`)).trim();
    for (const r of results) assert.equal(toHex(r.psk), onDisk);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["psk"]);
  });
});
