#!/usr/bin/env python3
"""An independent reader of a C2SP tlog-tiles directory, written from the specs
(c2sp.org/tlog-tiles, c2sp.org/tlog-checkpoint, c2sp.org/signed-note, RFC 6962), not from
sigbox's code. It reads only the files.

Usage: tile_reader.py DIR|URL LOG_KEY.pem   (a URL: the files as a static web server serves them)

Checks, with hashlib and pyca/cryptography only:
  * DIR/checkpoint is a signed note whose body is origin, size, base64 root; at least one
    signature line carries the log key's key ID and verifies (ECDSA P-256: key ID =
    SHA-256(SPKI)[:4], DER signature over SHA-256 of the note text; Ed25519: key ID =
    SHA-256(name || 0x0A || 0x01 || key)[:4], signature over the note text);
  * every level-0 tile the size needs is there with exactly 32 bytes a hash, and the RFC 6962
    root of those leaf hashes equals the checkpoint's root;
  * every higher-level tile hash is the Merkle hash of the full tile below it;
  * every entry bundle holds as many uint16-length-prefixed entries as its tile has hashes,
    each hashing (0x00 || entry) to the leaf hash at its position.
Prints one JSON line {"size", "root", "origin", "files"} and exits 0, or prints
"FAIL: <the failed check>" and exits 1.
"""

import base64
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519


class Fail(Exception):
    pass


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(hashes):
    """RFC 6962 Merkle tree hash over a list of leaf-level hashes."""
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


def encode_index(n):
    groups = ["%03d" % (n % 1000)]
    n //= 1000
    while n > 0:
        groups.append("x%03d" % (n % 1000))
        n //= 1000
    return "/".join(reversed(groups))


def tile_name(level, index, width):
    suffix = "" if width == 256 else ".p/%d" % width
    return "tile/%s/%s%s" % (level, encode_index(index), suffix)


def read(root, name, files):
    try:
        if root.startswith("http://"):
            with urllib.request.urlopen(root.rstrip("/") + "/" + name, timeout=30) as r:
                data = r.read()
        else:
            with open(os.path.join(root, name), "rb") as f:
                data = f.read()
    except (FileNotFoundError, urllib.error.HTTPError):
        raise Fail("%s is missing" % name)
    files.append(name)
    return data


def verify_checkpoint(text, key):
    if not text.endswith("\n") or "\n\n" not in text:
        raise Fail("checkpoint: not a signed note")
    body, sigs = text.rsplit("\n\n", 1)
    note = (body + "\n").encode()
    lines = body.split("\n")
    if len(lines) < 3 or not lines[0]:
        raise Fail("checkpoint: body needs origin, size and root lines")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise Fail("checkpoint: size %r is not canonical decimal" % size_text)
    root = base64.b64decode(root_text, validate=True)
    if len(root) != 32:
        raise Fail("checkpoint: root is not 32 bytes")
    verified = False
    for line in sigs.rstrip("\n").split("\n"):
        if not line.startswith("\u2014 "):
            raise Fail("checkpoint: signature line %r lacks the em dash" % line)
        name, _, blob = line[2:].partition(" ")
        raw = base64.b64decode(blob, validate=True)
        key_id, signature = raw[:4], raw[4:]
        if isinstance(key, ed25519.Ed25519PublicKey):
            pub = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            want = hashlib.sha256(name.encode() + b"\n\x01" + pub).digest()[:4]
            if key_id != want:
                continue
            try:
                key.verify(signature, note)
            except InvalidSignature:
                raise Fail("checkpoint: the Ed25519 signature of %s does not verify" % name)
        else:
            spki = key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            if key_id != hashlib.sha256(spki).digest()[:4]:
                continue
            try:
                key.verify(signature, note, ec.ECDSA(hashes.SHA256()))
            except InvalidSignature:
                raise Fail("checkpoint: the ECDSA signature of %s does not verify" % name)
        verified = True
    if not verified:
        raise Fail("checkpoint: no signature line by the log key")
    return origin, int(size_text), root


def hashes_of(data, name, width):
    if len(data) != 32 * width:
        raise Fail("%s is %d bytes, not %d" % (name, len(data), 32 * width))
    return [data[i:i + 32] for i in range(0, len(data), 32)]


def main(root, key_path):
    with open(key_path, "rb") as f:
        key = serialization.load_pem_public_key(f.read())
    files = []
    text = read(root, "checkpoint", files).decode()
    origin, size, want_root = verify_checkpoint(text, key)

    # Level 0 and the entry bundles beside it.
    level = []
    for index in range((size + 255) // 256):
        width = min(256, size - 256 * index)
        name = tile_name(0, index, width)
        tile = hashes_of(read(root, name, files), name, width)
        bundle_name = name.replace("tile/0/", "tile/entries/", 1)
        bundle = read(root, bundle_name, files)
        at, count = 0, 0
        while at < len(bundle):
            if at + 2 > len(bundle):
                raise Fail("%s: truncated length" % bundle_name)
            n = int.from_bytes(bundle[at:at + 2], "big")
            entry = bundle[at + 2:at + 2 + n]
            if len(entry) != n:
                raise Fail("%s: truncated entry" % bundle_name)
            if count >= width or leaf_hash(entry) != tile[count]:
                raise Fail("%s: entry %d does not hash to its leaf in %s"
                           % (bundle_name, 256 * index + count, name))
            at, count = at + 2 + n, count + 1
        if count != width:
            raise Fail("%s holds %d entries, not %d" % (bundle_name, count, width))
        level.extend(tile)
    if mth(level) != want_root:
        raise Fail("the level-0 tiles hash to %s, not the checkpoint's root %s"
                   % (mth(level).hex(), want_root.hex()))

    # Higher levels: each hash is the Merkle hash of a full tile of the level below.
    tile_level = 1
    while size >> (8 * tile_level) > 0:
        nodes = size >> (8 * tile_level)
        above = []
        for index in range((nodes + 255) // 256):
            width = min(256, nodes - 256 * index)
            name = tile_name(tile_level, index, width)
            above.extend(hashes_of(read(root, name, files), name, width))
        for k, h in enumerate(above):
            if mth(level[256 * k:256 * k + 256]) != h:
                raise Fail("%s: hash %d is not the Merkle hash of the tile below"
                           % (tile_name(tile_level, k // 256, min(256, nodes - k // 256 * 256)), k))
        level, tile_level = above, tile_level + 1

    print(json.dumps({"size": size, "root": want_root.hex(), "origin": origin,
                      "files": len(files)}))


if __name__ == "__main__":
    try:
        main(sys.argv[1], sys.argv[2])
    except Fail as e:
        print("FAIL: %s" % e)
        sys.exit(1)
