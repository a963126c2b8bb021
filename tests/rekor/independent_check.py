#!/usr/bin/env python3
"""Independent check of a Rekor v1 LogEntry, written from the specs, not from sigbox's code.

Usage: independent_check.py INPUT.json

INPUT.json = {
  "entry": {<entryID>: <LogEntry>},        # as POST/GET /api/v1/log/entries answer
  "publicKey": "<PEM of the log key>",      # GET /api/v1/log/publicKey
  "consistency": {                          # optional: GET /api/v1/log/proof
     "size1": N, "root1": "<hex>", "size2": M, "root2": "<hex>", "hashes": ["<hex>", ...]}
}

Checks, with pyca/cryptography and hashlib only:
  * logID == SHA-256(DER SPKI of the key); entryID ends with the RFC 6962 leaf hash;
  * the SET: ECDSA-SHA256 over the RFC 8785 JSON of {body, integratedTime, logID, logIndex};
  * the inclusion proof (RFC 6962 / RFC 9162 2.1.3.2) leads from the leaf to rootHash;
  * the checkpoint (C2SP signed note): key hint = SHA-256(SPKI)[:4], ECDSA-SHA256 over the
    note text, and its size and root equal the proof's;
  * the consistency proof (RFC 9162 2.1.4.2), if given.
Prints "OK ..." and exits 0, or prints the failed check and exits 1.
"""

import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


class CheckFailed(Exception):
    pass


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list, root: bytes) -> None:
    if index >= size or index < 0:
        raise CheckFailed("inclusion: index out of range")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise CheckFailed("inclusion: proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise CheckFailed("inclusion: proof too short")
    if r != root:
        raise CheckFailed("inclusion: computed root differs from rootHash")


def verify_consistency(size1: int, size2: int, proof: list, root1: bytes, root2: bytes) -> None:
    if size1 == size2:
        if proof or root1 != root2:
            raise CheckFailed("consistency: equal sizes need an empty proof and equal roots")
        return
    if size1 == 0 or size1 > size2:
        raise CheckFailed("consistency: sizes out of order")
    if size1 & (size1 - 1) == 0:
        proof = [root1] + list(proof)
    if not proof:
        raise CheckFailed("consistency: empty proof")
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            raise CheckFailed("consistency: proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != root1 or sr != root2:
        raise CheckFailed("consistency: proof does not link the two roots")


def jcs(obj) -> bytes:
    # RFC 8785 for an object of ASCII strings and integers: sorted keys, no whitespace.
    for v in obj.values():
        if isinstance(v, str) and not v.isascii():
            raise CheckFailed("JCS: non-ASCII string (not expected in a SET payload)")
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def ecdsa_verify(key, signature: bytes, message: bytes, what: str) -> None:
    try:
        key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise CheckFailed(f"{what}: ECDSA signature does not verify")


def verify_checkpoint(note: str, key, spki: bytes) -> tuple:
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise CheckFailed("checkpoint: not a signed note")
    text, sigs = note[: cut + 1], note[cut + 2 :]
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckFailed("checkpoint: body needs origin, size and root")
    origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)
    verified = False
    for line in sigs.splitlines():
        if not line.startswith("\u2014 "):
            raise CheckFailed("checkpoint: signature line without em dash")
        _name, blob = line[2:].rsplit(" ", 1)
        raw = base64.b64decode(blob, validate=True)
        if raw[:4] != hashlib.sha256(spki).digest()[:4]:
            continue  # another key (a witness): ignored
        ecdsa_verify(key, raw[4:], text.encode(), "checkpoint")
        verified = True
    if not verified:
        raise CheckFailed("checkpoint: no signature line from the log key")
    return origin, size, root


def check(doc: dict) -> str:
    key = serialization.load_pem_public_key(doc["publicKey"].encode())
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise CheckFailed("log key is not ECDSA")
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    log_id = hashlib.sha256(spki).hexdigest()
    (entry_id, e), = doc["entry"].items()
    body = base64.b64decode(e["body"], validate=True)
    leaf = leaf_hash(body)
    if e["logID"] != log_id:
        raise CheckFailed("logID is not SHA-256 of the key's SPKI")
    if entry_id[-64:] != leaf.hex():
        raise CheckFailed("entry ID does not end with the leaf hash")
    payload = jcs({"body": e["body"], "integratedTime": e["integratedTime"],
                   "logID": e["logID"], "logIndex": e["logIndex"]})
    set_sig = base64.b64decode(e["verification"]["signedEntryTimestamp"], validate=True)
    ecdsa_verify(key, set_sig, payload, "SET")
    p = e["verification"]["inclusionProof"]
    root = bytes.fromhex(p["rootHash"])
    verify_inclusion(p["logIndex"], p["treeSize"], leaf, [bytes.fromhex(h) for h in p["hashes"]], root)
    origin, size, cp_root = verify_checkpoint(p["checkpoint"], key, spki)
    if size != p["treeSize"] or cp_root != root:
        raise CheckFailed("checkpoint size/root differ from the inclusion proof")
    result = f"OK entry {e['logIndex']} in {origin!r} size {size}"
    c = doc.get("consistency")
    if c:
        verify_consistency(c["size1"], c["size2"], [bytes.fromhex(h) for h in c["hashes"]],
                           bytes.fromhex(c["root1"]), bytes.fromhex(c["root2"]))
        result += f"; consistent {c['size1']} -> {c['size2']}"
    return result


def main() -> int:
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    try:
        print(check(doc))
        return 0
    except (CheckFailed, KeyError, ValueError) as err:
        print(f"FAILED: {err}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
