/**
 * A client against `deno task start`: reads the key the server generated,
 * sends concurrent requests, pings, and reconnects if the server restarts.
 *
 *   deno task start            # in another terminal
 *   deno run -A examples/client_request.ts
 */
import { connect } from "../mod.ts";

const hex = (await Deno.readTextFile("./.somnytoo/psk")).trim();
const psk = Uint8Array.from(hex.match(/../g)!, (b) => parseInt(b, 16));

const session = await connect({ host: "127.0.0.1", port: 8000, psk, reconnect: true });
console.log("session", session.details?.sessionId);

// Requests are multiplexed by id over the one connection.
const enc = new TextEncoder();
const replies = await Promise.all(
  ["one", "two", "three"].map((w) => session.request(0x20, enc.encode(w))),
);
console.log(replies.map((r) => new TextDecoder().decode(r)));
console.log(`ping ${(await session.ping()).toFixed(2)} ms`);
await session.close();
