/**
 * `main.ts audit verify`: on a real embedded database in a fresh data
 * directory, a good chain exits 0, a tampered record exits 1 naming its
 * sequence number, and a missing key is one clear line.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/mod.ts";
import { openDatabase } from "../../src/db/mod.ts";
import { sql } from "../../src/orm/mod.ts";
import { AuditLog } from "../../src/security/mod.ts";
import { toHex } from "../../src/util/mod.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

async function runAudit(env: Record<string, string>, action: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "audit", action],
    env: { ...env, LOG_LEVEL: "error" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("audit verify: good chain → 0, tampered record → 1 at its seq, no key → clear error", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const env = { DATA_DIR: dataDir, HMAC_SECRET_KEY: toHex(key) };

    const noKey = await runAudit({ DATA_DIR: dataDir }, "verify");
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /No audit key: set HMAC_SECRET_KEY/);
    assert.ok(!noKey.stderr.includes(toHex(key)));

    // Write three records through the library, as a server would.
    const config = loadConfig({ env });
    const opened = await openDatabase(config);
    const log = new AuditLog(opened.db, { key });
    for (const reason of ["decrypt", "replay", "clock_skew"]) {
      log.record({ kind: "handshake_failure", ip: "192.0.2.9", details: { reason } });
    }
    await log.close();
    await opened.close();

    const good = await runAudit(env, "verify");
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /Audit log verified: 3 records/);

    // Someone edits the second record in the database.
    const again = await openDatabase(config);
    await again.db.execute(
      sql`UPDATE security_audit_log SET details = '{"reason":"nothing to see"}' WHERE seq = 2`
        .compile(),
    );
    await again.close();

    const broken = await runAudit(env, "verify");
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, /BROKEN at seq 2 \(mac_mismatch\)/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
