/**
 * Session rules (protocol-v1 §3–§4): request-id parity and allocation, and
 * how each role classifies every kind of inbound message.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Role } from "../../src/protocol/frame.ts";
import { PacketType } from "../../src/protocol/packet.ts";
import {
  classifyInbound,
  type InboundKind,
  isOwnRequestId,
  RequestIdAllocator,
} from "../../src/protocol/session.ts";

const NONE = { has: () => false };

Deno.test("RequestIdAllocator gives a client odd ids and a server even non-zero ids", () => {
  const c = new RequestIdAllocator("client");
  const s = new RequestIdAllocator("server");
  assert.deepEqual([1, 2, 3, 4, 5].map(() => c.next(NONE)), [1, 3, 5, 7, 9]);
  assert.deepEqual([1, 2, 3, 4, 5].map(() => s.next(NONE)), [2, 4, 6, 8, 10]);
});

Deno.test("RequestIdAllocator skips ids still in flight", () => {
  const c = new RequestIdAllocator("client");
  const inFlight = new Set([1, 3, 7]);
  assert.equal(c.next(inFlight), 5);
  assert.equal(c.next(inFlight), 9);
  const s = new RequestIdAllocator("server");
  assert.equal(s.next(new Set([2, 4])), 6);
});

Deno.test("RequestIdAllocator throws RangeError when every id it tries is in flight", () => {
  const c = new RequestIdAllocator("client");
  assert.throws(() => c.next({ has: () => true }), RangeError);
  // It still works once ids free up.
  assert.equal(c.next(NONE) % 2, 1);
});

for (
  const [role, first, last] of [["client", 1, 0xffff_ffff], ["server", 2, 0xffff_fffe]] as const
) {
  Deno.test(`RequestIdAllocator on a ${role} wraps from ${last} back to ${first}`, () => {
    const a = new RequestIdAllocator(role, last - 2);
    const none = { has: () => false };
    assert.deepEqual([a.next(none), a.next(none), a.next(none), a.next(none)], [
      last - 2,
      last,
      first,
      first + 2,
    ]);
  });

  Deno.test(`RequestIdAllocator on a ${role} skips in-flight ids across the wrap`, () => {
    const a = new RequestIdAllocator(role, last);
    const inFlight = new Set([last, first]);
    assert.equal(a.next(inFlight), first + 2);
  });
}

Deno.test("isOwnRequestId: odd ids are the client's, even non-zero ids the server's, 0 nobody's", () => {
  for (
    const [id, client, server] of [
      [0, false, false],
      [1, true, false],
      [2, false, true],
      [0xffff_ffff, true, false],
      [0xffff_fffe, false, true],
      [0x8000_0001, true, false],
    ] as const
  ) {
    assert.equal(isOwnRequestId("client", id), client, `client ${id}`);
    assert.equal(isOwnRequestId("server", id), server, `server ${id}`);
  }
});

const E = new Uint8Array(0);
const msg = (type: number, requestId: number, payload: Uint8Array = E) => ({
  type,
  requestId,
  payload,
});
const P = (n: number) => new Uint8Array(n);

// [type, request id, payload length, as seen by the server, as seen by the client]
const TABLE: [string, number, number, number, InboundKind, InboundKind][] = [
  ["Heartbeat, empty", PacketType.Heartbeat, 0, 0, "heartbeat", "heartbeat"],
  ["Heartbeat with timestamp", PacketType.Heartbeat, 0, 8, "heartbeat", "heartbeat"],
  ["Heartbeat, 7-byte payload", PacketType.Heartbeat, 0, 7, "violation", "violation"],
  ["Heartbeat, 9-byte payload", PacketType.Heartbeat, 0, 9, "violation", "violation"],
  ["Heartbeat with a request id", PacketType.Heartbeat, 1, 0, "violation", "violation"],
  ["KeyUpdate", PacketType.KeyUpdate, 0, 0, "keyupdate", "keyupdate"],
  ["KeyUpdate with payload", PacketType.KeyUpdate, 0, 1, "violation", "violation"],
  ["KeyUpdate with a request id", PacketType.KeyUpdate, 2, 0, "violation", "violation"],
  ["GoAway", PacketType.GoAway, 0, 2, "goaway", "goaway"],
  ["GoAway with message", PacketType.GoAway, 0, 20, "goaway", "goaway"],
  ["GoAway too short", PacketType.GoAway, 0, 1, "violation", "violation"],
  ["GoAway with a request id", PacketType.GoAway, 1, 2, "violation", "violation"],
  ["Ping, odd id", PacketType.Ping, 1, 3, "request", "violation"],
  ["Ping, even id", PacketType.Ping, 2, 3, "violation", "request"],
  ["Ping, id 0", PacketType.Ping, 0, 0, "violation", "violation"],
  ["Pong, odd id", PacketType.Pong, 1, 0, "violation", "reply"],
  ["Pong, even id", PacketType.Pong, 2, 0, "reply", "violation"],
  ["Pong, id 0", PacketType.Pong, 0, 0, "violation", "violation"],
  ["Error, id 0", PacketType.Error, 0, 6, "violation", "connection_error"],
  ["Error, odd id", PacketType.Error, 1, 6, "violation", "reply"],
  ["Error, even id", PacketType.Error, 2, 6, "violation", "violation"],
  ["Error, short payload", PacketType.Error, 1, 5, "violation", "violation"],
  ["Error, id 0, short payload", PacketType.Error, 0, 5, "violation", "violation"],
  ["Echo, odd id", 0x20, 1, 5, "request", "reply"],
  ["Echo, even id", 0x20, 2, 5, "violation", "violation"],
  ["Echo, id 0", 0x20, 0, 5, "violation", "violation"],
  ["0x7F, odd id", 0x7f, 0xffff_ffff, 0, "request", "reply"],
  ["0x1F", 0x1f, 1, 0, "violation", "violation"],
  ["0x80", 0x80, 1, 0, "violation", "violation"],
  ["0x06", 0x06, 1, 0, "violation", "violation"],
  ["ClientHello after the handshake", PacketType.ClientHello, 1, 0, "violation", "violation"],
  ["ServerHello after the handshake", PacketType.ServerHello, 2, 0, "violation", "violation"],
];

Deno.test("classifyInbound follows every row of the §4 table for both roles", () => {
  for (const [label, type, id, len, server, client] of TABLE) {
    assert.equal(
      classifyInbound("server", msg(type, id, P(len))),
      server,
      `server receives ${label}`,
    );
    assert.equal(
      classifyInbound("client", msg(type, id, P(len))),
      client,
      `client receives ${label}`,
    );
  }
});

Deno.test("property: classifyInbound never calls a reply 'request' and accepts nothing outside the §4 types", () => {
  fc.assert(
    fc.property(
      fc.constantFrom<Role>("server", "client"),
      fc.integer({ min: 0, max: 255 }),
      fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xffff_ffff })),
      fc.integer({ min: 0, max: 20 }),
      (role, type, id, len) => {
        const kind = classifyInbound(role, msg(type, id, P(len)));
        const known = [1, 2, 3, 4, 5, 0x10].includes(type) || (type >= 0x20 && type <= 0x7f);
        if (!known) assert.equal(kind, "violation");
        if (kind === "request") {
          assert.ok(isOwnRequestId(role === "server" ? "client" : "server", id));
        }
        if (kind === "reply") assert.ok(isOwnRequestId(role, id));
        if (["heartbeat", "keyupdate", "goaway", "connection_error"].includes(kind)) {
          assert.equal(id, 0);
        }
      },
    ),
  );
});
