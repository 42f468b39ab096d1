/**
 * Numbers from the wire contract (protocol-v1.md), in one place. Values
 * marked "implementation" are our choices, not the contract's.
 */

// §1 Frame envelope
/** First magic byte of every frame. */
export const MAGIC_0 = 0xab;
/** Second magic byte of every frame. */
export const MAGIC_1 = 0xcd;
/** magic (2) + length (2) + type (1). */
export const HEADER_BYTES = 5;
/** The `length` field counts bytes after itself: type + body, at most 65 535. */
export const MAX_LENGTH_FIELD = 0xffff;
/** A whole frame: 4 bytes before the type + 65 535. */
export const MAX_FRAME_BYTES = 4 + MAX_LENGTH_FIELD;

// §2 Handshake
/** The Noise protocol name; 32 bytes, so it is `h` directly (Noise §5.2). */
export const NOISE_PROTOCOL_NAME = "Noise_NNpsk0_25519_AESGCM_SHA256";
/** Prologue prefix, followed by u8(len(psk_id)) || psk_id. */
export const PROLOGUE_PREFIX = "SomnyToo/1";
/** The only protocol version. */
export const PROTOCOL_VERSION = 0x01;
/** Largest `psk_id`, in bytes. */
export const MAX_PSK_ID_BYTES = 64;
/** Pre-shared keys are 32 bytes. */
export const PSK_BYTES = 32;
/** ClientHello body bounds: 1 + 1 + 0 + 32 + 8 + 16 = 58 … 1 024. */
export const CLIENT_HELLO_MIN_BODY = 58;
/** Largest ClientHello / ServerHello body. */
export const HELLO_MAX_BODY = 1024;
/** ServerHello body: 1 + 32 + 24 + 16 = 73 … 1 024. */
export const SERVER_HELLO_MIN_BODY = 73;
/** Default allowed clock skew for the ClientHello timestamp. */
export const DEFAULT_CLOCK_SKEW_MS = 30_000;
/** Default time from TCP accept to a finished handshake. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Label for the HMAC trailer keys: HMAC(ck, "somnytoo v1 mac"). */
export const MAC_LABEL = "somnytoo v1 mac";
/** Label for rekeying a MAC key: HMAC(HMAC(mac, "somnytoo v1 rekey"), 0x01). */
export const MAC_REKEY_LABEL = "somnytoo v1 rekey";

// §3 Transport frames
/** Transport nonce: 4 zero bytes || u64(n). */
export const NONCE_BYTES = 12;
/** AES-GCM tag. */
export const TAG_BYTES = 16;
/** HMAC-SHA256 trailer. */
export const MAC_BYTES = 32;
/** request_id (u32) at the start of every plaintext. */
export const REQUEST_ID_BYTES = 4;
/** Transport body bounds (§4): 12 + 4 + 16 + 32 = 64 … 65 534. */
export const TRANSPORT_MIN_BODY = NONCE_BYTES + REQUEST_ID_BYTES + TAG_BYTES + MAC_BYTES;
/** Largest transport body: length field minus the type byte. */
export const TRANSPORT_MAX_BODY = MAX_LENGTH_FIELD - 1;
/** 65 535 − 1 − 12 − 16 − 32 − 4 = 65 470. */
export const MAX_PAYLOAD_BYTES = TRANSPORT_MAX_BODY - NONCE_BYTES - TAG_BYTES - MAC_BYTES -
  REQUEST_ID_BYTES;
/** A sender rekeys at least this often (contract: at least every 2^24 frames). */
export const DEFAULT_REKEY_AFTER_FRAMES = 2 ** 24;
/** Largest request id; clients wrap to 1 after it. */
export const MAX_REQUEST_ID = 0xffff_ffff;

// §5 Liveness
/** Default heartbeat interval announced in ServerHello. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 15_000;
/** Default idle timeout announced in ServerHello. */
export const DEFAULT_IDLE_TIMEOUT_MS = 45_000;
/** Default grace period after GoAway (§4). */
export const DEFAULT_GOAWAY_GRACE_MS = 5_000;
