#!/usr/bin/env python3
"""A SomnyToo v1 client written from the contract with an off-the-shelf Noise
library (dissononce, Debian package python3-dissononce). It proves that
`deno task start` interoperates with a third-party implementation.

usage: dissononce_client.py HOST PORT PSK_HEX [PSK_ID]
Prints one line per step and "OK" at the end; exits non-zero on any failure.
"""
import hashlib, hmac, os, socket, struct, sys, time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from dissononce.cipher.aesgcm import AESGCMCipher
from dissononce.dh.x25519.x25519 import X25519DH
from dissononce.hash.sha256 import SHA256Hash
from dissononce.processing.handshakepatterns.interactive.NN import NNHandshakePattern
from dissononce.processing.impl.cipherstate import CipherState
from dissononce.processing.impl.handshakestate import HandshakeState
from dissononce.processing.impl.symmetricstate import SymmetricState
from dissononce.processing.modifiers.psk import PSKPatternModifier

host, port, psk = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
psk_id = (sys.argv[4] if len(sys.argv) > 4 else "").encode()

def frame(ftype, body):
    return b"\xab\xcd" + struct.pack(">H", len(body) + 1) + bytes([ftype]) + body

def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("server closed the connection")
        buf += chunk
    return buf

def read_frame(sock):
    header = read_exact(sock, 5)
    assert header[:2] == b"\xab\xcd", "bad magic"
    length = struct.unpack(">H", header[2:4])[0]
    return header, read_exact(sock, length - 1)

sock = socket.create_connection((host, port))
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

# --- Handshake: Noise_NNpsk0_25519_AESGCM_SHA256 (contract section 2) ---
hs = HandshakeState(SymmetricState(CipherState(AESGCMCipher()), SHA256Hash()), X25519DH())
hs.initialize(PSKPatternModifier(0).modify(NNHandshakePattern()), True,
              b"SomnyToo/1" + bytes([len(psk_id)]) + psk_id, psks=(psk,))
msg1 = bytearray()
hs.write_message(struct.pack(">Q", int(time.time() * 1000)), msg1)
sock.sendall(frame(0xA0, bytes([1, len(psk_id)]) + psk_id + bytes(msg1)))
_, body = read_frame(sock)
assert body[0] == 1, "ServerHello version"
payload = bytearray()
c2s, s2c = hs.read_message(body[1:], payload)
session_id, heartbeat_ms, idle_ms = payload[:16], *struct.unpack(">II", payload[16:24])
print(f"handshake ok: session {session_id.hex()} heartbeat {heartbeat_ms} ms idle {idle_ms} ms")

# HMAC trailer keys from the final chaining key.
ck = hs.symmetricstate._ck
t = hmac.new(ck, b"somnytoo v1 mac", hashlib.sha256).digest()
mac_c2s = hmac.new(t, b"\x01", hashlib.sha256).digest()
mac_s2c = hmac.new(t, mac_c2s + b"\x02", hashlib.sha256).digest()

# --- Transport (contract section 3) ---
class Direction:
    def __init__(self, cipher, mac):
        self.cipher, self.mac, self.n = cipher, mac, 0
    def rekey(self):
        # REKEY(k) = first 32 bytes of ENCRYPT(k, 2^64-1, "", zeros) (Noise section 4.2).
        # dissononce 0.34's AESGCM rekey keeps all 48 bytes (tag included), so do it here.
        key = AESGCM(self.cipher._key).encrypt(b"\0\0\0\0" + b"\xff" * 8, bytes(32), b"")[:32]
        nonce = self.cipher._nonce
        self.cipher.initialize_key(key)
        self.cipher.set_nonce(nonce)
        self.mac = hmac.new(hmac.new(self.mac, b"somnytoo v1 rekey", hashlib.sha256).digest(),
                            b"\x01", hashlib.sha256).digest()

tx, rx = Direction(c2s, mac_c2s), Direction(s2c, mac_s2c)

def send(ftype, request_id, data):
    nonce = b"\0\0\0\0" + struct.pack(">Q", tx.n)
    header = b"\xab\xcd" + struct.pack(">H", 1 + 12 + 4 + len(data) + 16 + 32) + bytes([ftype])
    ct = tx.cipher.encrypt_with_ad(header, struct.pack(">I", request_id) + data)
    sock.sendall(header + nonce + ct + hmac.new(tx.mac, header + nonce + ct, hashlib.sha256).digest())
    tx.n += 1
    if ftype == 0x05:
        tx.rekey()

def receive():
    header, body = read_frame(sock)
    nonce, ct, mac = body[:12], body[12:-32], body[-32:]
    assert hmac.compare_digest(mac, hmac.new(rx.mac, header + nonce + ct, hashlib.sha256).digest()), "mac"
    assert nonce == b"\0\0\0\0" + struct.pack(">Q", rx.n), "nonce"
    plain = rx.cipher.decrypt_with_ad(header, ct)
    rx.n += 1
    if header[4] == 0x05:
        rx.rekey()
    return header[4], struct.unpack(">I", plain[:4])[0], plain[4:]

def reply_to(request_id):
    while True:
        ftype, rid, data = receive()
        if ftype in (0x10, 0x05):  # Heartbeat / KeyUpdate: never answered
            continue
        assert rid == request_id, f"unexpected request id {rid}"
        return ftype, data

send(0x20, 1, b"hello from dissononce")
ftype, data = reply_to(1)
assert (ftype, data) == (0x20, b"hello from dissononce"), (ftype, data)
print("echo ok")
send(0x01, 3, b"ping")
assert reply_to(3) == (0x02, b"ping")
print("ping ok")
send(0x7E, 5, b"")
ftype, data = reply_to(5)
assert ftype == 0x03 and struct.unpack(">H", data[:2])[0] == 1, "Error 1 for an unknown type"
print("error 1 ok")
send(0x05, 0, b"")
send(0x20, 7, b"after rekey")
assert reply_to(7) == (0x20, b"after rekey")
print("keyupdate ok")
send(0x04, 0, struct.pack(">H", 0) + b"bye")
while True:
    ftype, rid, data = receive()
    if ftype == 0x04:
        print(f"goaway reason {struct.unpack('>H', data[:2])[0]}")
        break
sock.close()
print("OK")
